// Finds the `model` field of a multipart/form-data body while it streams in, without buffering
// it: fed chunk by chunk, it keeps only a few bytes across chunks (a part's headers, the model
// value, and a delimiter's length of tail), and reports where the value lies in the stream, so
// the caller can replay what it read and pipe the rest (RFC 7578, RFC 2046 §5.1.1).
import { BadRequestError } from '../errors.js';

/** Where the `model` value is: its text and its byte range [start, end) from the body's start. */
export interface FoundModel {
  value: string;
  start: number;
  end: number;
}

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
/** Clients send no preamble; kilobytes of bytes before the first boundary mean it is not multipart. */
const MAX_PREAMBLE = 16 * 1024;
const MAX_PART_HEADERS = 16 * 1024;
const MAX_MODEL_VALUE = 1024;

/** The boundary of a `multipart/form-data` content type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The `name` of a part from its header block, or undefined. */
function partName(headers: string): string | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const match = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i.exec(line.slice(colon + 1));
    return match ? (match[1] ?? match[2]) : undefined;
  }
  return undefined;
}

type State = 'preamble' | 'after-delimiter' | 'headers' | 'skip' | 'value' | 'done';

export class MultipartModelFinder {
  /** `--boundary` at the very start of the body; `\r\n--boundary` anywhere after. */
  private readonly firstDelimiter: Buffer;
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** Bytes not yet consumed, from absolute offset `offset`. */
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  private found: FoundModel | undefined;

  constructor(boundary: string, private readonly field = 'model') {
    this.firstDelimiter = Buffer.from(`--${boundary}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /**
   * Takes the next chunk. Returns the model once its value is complete; undefined while more is
   * needed. Throws BadRequestError for a body that is not well-formed multipart, or that ends
   * its parts without the field.
   */
  push(chunk: Buffer): FoundModel | undefined {
    if (this.found) return this.found;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.step());
    return this.found;
  }

  /** The body ended: throws when the field was never found. */
  end(): FoundModel {
    if (this.found) return this.found;
    if (this.state === 'done') throw missingField(this.field);
    throw new BadRequestError(`The multipart body ended in the middle of a part, before a "${this.field}" field. Send a complete multipart/form-data body.`, 'invalid_multipart');
  }

  private consume(n: number): void {
    this.pending = this.pending.subarray(n);
    this.offset += n;
  }

  /** One move of the state machine; false when it needs more bytes (or is done). */
  private step(): boolean {
    switch (this.state) {
      case 'preamble': {
        // The first delimiter may come without its leading CRLF.
        if (this.offset === 0 && this.pending.length >= this.firstDelimiter.length && this.pending.subarray(0, this.firstDelimiter.length).equals(this.firstDelimiter)) {
          this.consume(this.firstDelimiter.length);
          this.state = 'after-delimiter';
          return true;
        }
        const at = this.pending.indexOf(this.delimiter);
        if (at !== -1) {
          this.consume(at + this.delimiter.length);
          this.state = 'after-delimiter';
          return true;
        }
        if (this.offset + this.pending.length > MAX_PREAMBLE) throw junk(`no boundary in its first ${MAX_PREAMBLE / 1024} KiB`);
        return false;
      }
      case 'after-delimiter': {
        if (this.pending.length < 2) return false;
        const next = this.pending.subarray(0, 2).toString('latin1');
        if (next === '--') {
          this.state = 'done';
          throw missingField(this.field);
        }
        // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
        const eol = this.pending.indexOf(CRLF);
        if (eol === -1) {
          if (this.pending.length > 256) throw junk('a boundary line is not followed by a line break');
          return false;
        }
        if (this.pending.subarray(0, eol).toString('latin1').trim() !== '') throw junk('a boundary line has trailing characters');
        this.consume(eol + 2);
        this.state = 'headers';
        return true;
      }
      case 'headers': {
        // A part may have no headers at all: then its blank line comes at once.
        if (this.pending.length >= 2 && this.pending[0] === 13 && this.pending[1] === 10) {
          this.consume(2);
          this.state = 'skip';
          return true;
        }
        const at = this.pending.indexOf(HEADERS_END);
        if (at === -1) {
          if (this.pending.length > MAX_PART_HEADERS) throw junk(`a part's headers are over ${MAX_PART_HEADERS / 1024} KiB`);
          return false;
        }
        const name = partName(this.pending.subarray(0, at).toString('utf8'));
        this.consume(at + HEADERS_END.length);
        this.state = name === this.field ? 'value' : 'skip';
        return true;
      }
      case 'value': {
        const at = this.pending.indexOf(this.delimiter);
        if (at === -1) {
          if (this.pending.length > MAX_MODEL_VALUE + this.delimiter.length) throw new BadRequestError(`The "${this.field}" field is over ${MAX_MODEL_VALUE} bytes long: it must name a model from GET /v1/models.`, 'invalid_multipart');
          return false;
        }
        this.found = { value: this.pending.subarray(0, at).toString('utf8').trim(), start: this.offset, end: this.offset + at };
        this.pending = Buffer.alloc(0);
        this.state = 'done';
        return false;
      }
      case 'skip': {
        const at = this.pending.indexOf(this.delimiter);
        if (at !== -1) {
          this.consume(at + this.delimiter.length);
          this.state = 'after-delimiter';
          return true;
        }
        // Keep only what could be the start of a delimiter split across chunks.
        const keep = Math.min(this.pending.length, this.delimiter.length - 1);
        this.consume(this.pending.length - keep);
        return false;
      }
      case 'done':
        return false;
    }
  }
}

function junk(why: string): BadRequestError {
  return new BadRequestError(`The request body is not valid multipart/form-data (${why}). Send the fields and files as multipart/form-data with the boundary of its Content-Type.`, 'invalid_multipart');
}

function missingField(field: string): BadRequestError {
  return new BadRequestError(`The multipart body has no "${field}" field. Add one naming a model from GET /v1/models.`, 'missing_model');
}
