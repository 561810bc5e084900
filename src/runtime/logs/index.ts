/** Container logs: one file per container run, written directly by the process, rotated by size. */
export { LogError, type LogErrorCode } from './log-error.js';
export { containerLogPath, listLogRestarts, podLogDir, podsLogRoot, rotatedLogPath, rotationStatePath, type PodLogIdentity } from './log-paths.js';
export { LOG_DIR_MODE, LOG_FILE_MODE, LOG_ROOT_MODE, openLogFile, openLogForReading, type OpenLogFileOptions } from './open-log-file.js';
export { rotateLog, type RotateLogOptions, type RotationResult } from './rotate-log.js';
export {
  DEFAULT_LOG_BUSY_CHECK_INTERVAL_MS,
  DEFAULT_LOG_CHECK_INTERVAL_MS,
  DEFAULT_LOG_MAX_BYTES,
  DEFAULT_LOG_MAX_FILES,
  LogRotator,
  type LogRotatorOptions,
} from './log-rotator.js';
export { LogStream, readLogs, type ReadLogsOptions } from './read-logs.js';
export { listPodLogDirs, pruneContainerLogs, removePodLogs, type PodLogDirectory } from './remove-pod-logs.js';
