# Azurite (the Azure Blob emulator) for the Azure storage tests: npm, pinned to 3.35.0
# (3.37 wants Node 22), installed once under $PREFECT_STORAGE_TOOLS.
AZURITE_VERSION=3.35.0
azurite_dir="$PREFECT_STORAGE_TOOLS/azurite-$AZURITE_VERSION"
if [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    apt_want nodejs npm
    apt_flush
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "setup: npm install azurite@$AZURITE_VERSION into $azurite_dir"
    npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
  else
    echo "setup: npm is not available; the Azure tests will be skipped (and fail under CI=true)" >&2
  fi
fi
