import { FormatError } from "../errors.js";

/**
 * Bounds-checked cursor over untrusted header bytes. Every read checks the remaining
 * length first and every variable-length read checks a caller-given maximum, so a
 * hostile length field can never drive an allocation or a read past the buffer.
 */
export class ByteReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (n > this.buf.length - this.offset) throw new FormatError("MALFORMED_HEADER", "header truncated");
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number, max: number): Buffer {
    if (n > max) throw new FormatError("LIMIT_EXCEEDED", "a header field is longer than its limit");
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** UTF-8 text; rejects invalid sequences rather than replacing them. */
  utf8(n: number, max: number): string {
    const raw = this.bytes(n, max);
    try {
      // ignoreBOM keeps a leading U+FEFF: the decoded text must re-encode to the same AAD bytes
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw new FormatError("MALFORMED_HEADER", "a header text field is not valid UTF-8");
    }
  }

  /** Asserts every byte was consumed: trailing bytes are a malformed header. */
  end(): void {
    if (this.offset !== this.buf.length) throw new FormatError("MALFORMED_HEADER", "unexpected bytes in header");
  }
}
