export { expandCommand, expandVars } from './expand-command.js';
export { exited, readExitResult, parseStatus, type ExitReason, type ExitResult, type ExitedOptions } from './exit-result.js';
export { DEFAULT_PATH, findExecutable, type FindResult } from './find-executable.js';
export { ProcessHandle, reattach, type ProcessRecord } from './process-handle.js';
export { startProcess, type ProcessSpec, type StartProcessOptions, type StartResult } from './start-process.js';
export { stopProcess, type StopProcessOptions, type StopResult } from './stop-process.js';
export { resolveEnv, EnvError, type EnvLookup } from './resolve-env.js';
