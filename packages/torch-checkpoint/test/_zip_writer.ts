// Test helper: writes zip archives (stored or deflated members, optionally every zip64 record)
// with node:zlib, independently of the reader under test.

import { crc32, deflateRawSync } from "node:zlib";

/** One member to write. */
export interface ZipMember {
  name: string;
  bytes: Uint8Array;
  deflate?: boolean;
}

/** Options of {@link writeZip}. */
export interface ZipOptions {
  /** Write zip64 extra fields and the zip64 end records even though nothing needs them. */
  zip64?: boolean;
  /** A comment after the end record. */
  comment?: string;
}

function le(size: number, value: number | bigint): number[] {
  const out: number[] = [];
  let rest = BigInt(value);
  for (let i = 0; i < size; i++) {
    out.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return out;
}

/** The bytes of a zip archive holding `members` in order. */
export function writeZip(members: ZipMember[], options: ZipOptions = {}): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  const zip64 = options.zip64 === true;
  const MAX32 = 0xffffffff;
  for (const member of members) {
    const name = new TextEncoder().encode(member.name);
    const data = member.deflate ? new Uint8Array(deflateRawSync(member.bytes)) : member.bytes;
    const crc = crc32(member.bytes);
    const method = member.deflate ? 8 : 0;
    const offset = out.length;
    const extra = zip64 ? [...le(2, 1), ...le(2, 16), ...le(8, member.bytes.length), ...le(8, data.length)] : [];
    const size32 = (value: number) => le(4, zip64 ? MAX32 : value);
    out.push(...le(4, 0x04034b50), ...le(2, zip64 ? 45 : 20), ...le(2, 0x800), ...le(2, method), ...le(4, 0), ...le(4, crc));
    out.push(...size32(data.length), ...size32(member.bytes.length), ...le(2, name.length), ...le(2, extra.length), ...name, ...extra);
    for (let i = 0; i < data.length; i++) out.push(data[i]!);
    const centralExtra = zip64 ? [...le(2, 1), ...le(2, 24), ...le(8, member.bytes.length), ...le(8, data.length), ...le(8, offset)] : [];
    central.push(
      ...le(4, 0x02014b50),
      ...le(2, 45),
      ...le(2, zip64 ? 45 : 20),
      ...le(2, 0x800),
      ...le(2, method),
      ...le(4, 0),
      ...le(4, crc),
    );
    central.push(...size32(data.length), ...size32(member.bytes.length), ...le(2, name.length), ...le(2, centralExtra.length), ...le(2, 0));
    central.push(...le(2, 0), ...le(2, 0), ...le(4, 0), ...size32(offset), ...name, ...centralExtra);
  }
  const directoryOffset = out.length;
  out.push(...central);
  if (zip64) {
    const recordOffset = out.length;
    out.push(...le(4, 0x06064b50), ...le(8, 44), ...le(2, 45), ...le(2, 45), ...le(4, 0), ...le(4, 0));
    out.push(...le(8, members.length), ...le(8, members.length), ...le(8, central.length), ...le(8, directoryOffset));
    out.push(...le(4, 0x07064b50), ...le(4, 0), ...le(8, recordOffset), ...le(4, 1));
  }
  const comment = new TextEncoder().encode(options.comment ?? "");
  const count16 = zip64 ? 0xffff : members.length;
  out.push(...le(4, 0x06054b50), ...le(2, 0), ...le(2, 0), ...le(2, count16), ...le(2, count16));
  out.push(...le(4, zip64 ? MAX32 : central.length), ...le(4, zip64 ? MAX32 : directoryOffset), ...le(2, comment.length), ...comment);
  return new Uint8Array(out);
}

/** A checkpoint archive as torch.save lays it out: `<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/version`. */
export function writeCheckpointZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: ZipOptions & { prefix?: string; deflate?: boolean } = {},
): Uint8Array {
  const prefix = options.prefix ?? "archive";
  const members: ZipMember[] = [{ name: `${prefix}/data.pkl`, bytes: pickle, deflate: options.deflate }];
  for (const [key, bytes] of Object.entries(storages)) members.push({ name: `${prefix}/data/${key}`, bytes, deflate: options.deflate });
  members.push({ name: `${prefix}/version`, bytes: new TextEncoder().encode("3\n") });
  return writeZip(members, options);
}
