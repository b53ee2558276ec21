import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesSource } from "../byte_source.ts";
import { assertRejectsWith } from "../test/_assert_error.ts";
import { writeZip } from "../test/_zip_writer.ts";
import { ZipArchive } from "./zip_archive.ts";

const text = (value: string) => new TextEncoder().encode(value);
const MEMBERS = [
  { name: "a/data.pkl", bytes: text("hello pickle") },
  { name: "a/data/0", bytes: new Uint8Array(1000).map((_, i) => i % 7), deflate: true },
  { name: "a/version", bytes: text("3\n") },
];

async function open(bytes: Uint8Array): Promise<ZipArchive> {
  return ZipArchive.open(bytesSource(bytes, "test.zip"));
}

test("ZipArchive reads stored and deflated members and byte ranges of them", async () => {
  const archive = await open(writeZip(MEMBERS));
  assert.deepEqual(archive.names, ["a/data.pkl", "a/data/0", "a/version"]);
  assert.deepEqual(await archive.readWhole(archive.entry("a/data.pkl")), text("hello pickle"));
  assert.deepEqual(await archive.readWhole(archive.entry("a/data/0")), MEMBERS[1]!.bytes);
  assert.deepEqual(await archive.readRange(archive.entry("a/data/0"), 10, 14), new Uint8Array([3, 4, 5, 6]));
  assert.deepEqual(await archive.readRange(archive.entry("a/data.pkl"), 6, 12), text("pickle"));
});

test("ZipArchive reads zip64 records and an archive with a comment", async () => {
  const archive = await open(writeZip(MEMBERS, { zip64: true, comment: "made by a test" }));
  assert.equal(archive.entry("a/data/0").byteLength, 1000);
  assert.deepEqual(await archive.readWhole(archive.entry("a/version")), text("3\n"));
  assert.deepEqual(await archive.readWhole(archive.entry("a/data/0")), MEMBERS[1]!.bytes);
});

test("ZipArchive refuses a file without an end record, cut short, or with a moved directory", async () => {
  const good = writeZip(MEMBERS);
  await assertRejectsWith(open(new Uint8Array(100)), "not_a_checkpoint", /no end-of-central-directory record/);
  await assertRejectsWith(open(good.subarray(0, good.length - 30)), "not_a_checkpoint");
  const moved = good.slice();
  const view = new DataView(moved.buffer);
  view.setUint32(moved.length - 6, moved.length, true); // directory offset past the end record
  await assertRejectsWith(open(moved), "corrupt_zip", /overlaps its end record/);
});

test("ZipArchive refuses entry counts the directory cannot hold and duplicate names", async () => {
  const counted = writeZip(MEMBERS);
  new DataView(counted.buffer).setUint16(counted.length - 12, 500, true);
  await assertRejectsWith(open(counted), "corrupt_zip", /500 entries cannot fit/);
  const twice = writeZip([MEMBERS[0]!, MEMBERS[0]!]);
  await assertRejectsWith(open(twice), "corrupt_zip", /appears twice/);
});

test("ZipArchive refuses encrypted members, unknown methods and sizes past the directory", async () => {
  const good = writeZip([MEMBERS[0]!]);
  const directoryOffset = new DataView(good.buffer).getUint32(good.length - 6, true);
  const encrypted = good.slice();
  new DataView(encrypted.buffer).setUint16(directoryOffset + 8, 0x801, true);
  await assertRejectsWith(open(encrypted), "unsupported_zip", /encrypted/);
  const bzip = good.slice();
  new DataView(bzip.buffer).setUint16(directoryOffset + 10, 12, true);
  await assertRejectsWith(open(bzip), "unsupported_zip", /compression method 12/);
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(directoryOffset + 20, 1 << 30, true);
  new DataView(huge.buffer).setUint32(directoryOffset + 24, 1 << 30, true);
  await assertRejectsWith(open(huge), "corrupt_zip", /past the start of the central directory/);
});

test("ZipArchive checks CRC-32 and refuses deflated sizes no deflate stream can reach", async () => {
  const good = writeZip([MEMBERS[1]!]);
  const directoryOffset = new DataView(good.buffer).getUint32(good.length - 6, true);
  const badCrc = good.slice();
  new DataView(badCrc.buffer).setUint32(directoryOffset + 16, 12345, true);
  const archive = await open(badCrc);
  await assertRejectsWith(archive.readWhole(archive.entry("a/data/0")), "corrupt_zip", /CRC-32/);
  const bomb = good.slice();
  new DataView(bomb.buffer).setUint32(directoryOffset + 24, 2 ** 31, true);
  const bombArchive = await open(bomb);
  await assertRejectsWith(bombArchive.readWhole(bombArchive.entry("a/data/0")), "corrupt_zip", /cannot hold the declared/);
  const longer = good.slice();
  new DataView(longer.buffer).setUint32(directoryOffset + 24, 999, true);
  const longerArchive = await open(longer);
  await assertRejectsWith(longerArchive.readWhole(longerArchive.entry("a/data/0")), "corrupt_zip", /more than the declared 999 bytes/);
});

test("ZipArchive refuses byte ranges outside a member", async () => {
  const archive = await open(writeZip(MEMBERS));
  await assertRejectsWith(archive.readRange(archive.entry("a/version"), 0, 3), "corrupt_zip", /it has 2 bytes/);
  await assertRejectsWith(
    Promise.resolve().then(() => archive.entry("a/nothing")),
    "missing_record",
  );
});
