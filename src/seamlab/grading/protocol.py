"""Names shared by the grader (parent) and the reporter plugin (child), kept import-light."""

REPORT_ENV = "SEAMLAB_REPORT_PATH"
TARGET_ENV = "SEAMLAB_TARGET_DIR"
IMPORT_TIMEOUT_ENV = "SEAMLAB_IMPORT_TIMEOUT"
