"""Names shared by the grader (parent) and the reporter plugin (child), kept import-light."""

#: The number of the inherited descriptor (opened O_APPEND) the reporter writes to.
REPORT_FD_ENV = "SEAMLAB_REPORT_FD"
TARGET_ENV = "SEAMLAB_TARGET_DIR"
IMPORT_TIMEOUT_ENV = "SEAMLAB_IMPORT_TIMEOUT"
#: The child's memory limit in MB, for the verdict's words.
MEMORY_ENV = "SEAMLAB_MEMORY_MB"
