/**
 * How `pods/exec` output travels from the agent through the API server to the CLI: one chunked
 * HTTP response of frames, each 1 byte channel, 4 bytes big-endian length, then the payload.
 * Channels are numbered as in Kubernetes' remotecommand protocol (1 stdout, 2 stderr, 3 status);
 * the status frame comes last and holds `{"exitCode":N}`, or a Kubernetes Status when the command
 * could not be started. pm8s' own framing: kubectl's SPDY/websocket upgrade is not spoken.
 */
import type { Status } from './errors.js';
import { isRecord } from './types.js';

export const EXEC_CONTENT_TYPE = 'application/vnd.pm8s.exec-frames';

export const EXEC_CHANNEL = { stdout: 1, stderr: 2, status: 3 } as const;
export type ExecChannel = (typeof EXEC_CHANNEL)[keyof typeof EXEC_CHANNEL];

export type ExecStatus = { exitCode: number } | Status;

/** A frame larger than this means the stream is not ours (pipes deliver at most 64 KiB at a time). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 5;

export interface ExecFrame {
  channel: ExecChannel;
  payload: Buffer;
}

export function encodeFrame(channel: ExecChannel, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(channel, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

export class ExecFrameError extends Error {
  override readonly name = 'ExecFrameError';
}

/** Reassembles frames from chunks cut anywhere. */
export class ExecFrameDecoder {
  #buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ExecFrame[] {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const frames: ExecFrame[] = [];
    while (this.#buffered.length >= HEADER_BYTES) {
      const channel = this.#buffered.readUInt8(0);
      const length = this.#buffered.readUInt32BE(1);
      if (channel < 1 || channel > 3 || length > MAX_FRAME_BYTES) throw new ExecFrameError(`malformed exec stream: channel ${channel}, length ${length}`);
      if (this.#buffered.length < HEADER_BYTES + length) break;
      frames.push({ channel: channel as ExecChannel, payload: this.#buffered.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.#buffered = this.#buffered.subarray(HEADER_BYTES + length);
    }
    return frames;
  }

  /** Bytes of an unfinished frame (non-zero at the end of the stream means it was cut). */
  get pending(): number {
    return this.#buffered.length;
  }
}

/** Reads a status frame's payload. */
export function parseExecStatus(payload: Buffer): ExecStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ExecFrameError('malformed exec status frame');
  }
  if (isRecord(parsed) && typeof parsed.exitCode === 'number') return { exitCode: parsed.exitCode };
  if (isRecord(parsed) && parsed.kind === 'Status') return parsed as unknown as Status;
  throw new ExecFrameError('malformed exec status frame');
}
