// Reads one small entry (export_report.json) out of an export's zip archive with HTTP range requests: the end
// of the archive for its central directory, then just that entry, so a large archive is never downloaded.

const REPORT = 'export_report.json';
const TAIL = 65536 + 22;

async function fetchRange(url, start, end) {
  const response = await fetch(url, { headers: { Range: end === undefined ? `bytes=-${start}` : `bytes=${start}-${end}` }, credentials: 'same-origin' });
  if (!response.ok) throw new Error(`The archive answered ${response.status}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status === 200) return { whole: bytes };
  const total = Number((response.headers.get('Content-Range') ?? '').split('/')[1]);
  return { bytes, total };
}

export async function readReport(url) {
  const tail = await fetchRange(url, TAIL);
  const archive = tail.whole ?? null;
  const total = archive ? archive.length : tail.total;
  const end = archive ?? tail.bytes;
  const view = new DataView(end.buffer, end.byteOffset, end.byteLength);
  let eocd = -1;
  for (let i = end.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('Not a zip archive.');
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  const tailStart = total - end.length;
  const cd = cdOffset >= tailStart
    ? end.subarray(cdOffset - tailStart, cdOffset - tailStart + cdSize)
    : (await fetchRange(url, cdOffset, cdOffset + cdSize - 1)).bytes;
  const entry = findEntry(cd);
  if (!entry) return null;
  const headerAndData = archive
    ? archive.subarray(entry.offset, entry.offset + 30 + 65535 * 2 + entry.compressedSize)
    : (await fetchRange(url, entry.offset, entry.offset + 30 + entry.nameLength + 65535 + entry.compressedSize)).bytes;
  const local = new DataView(headerAndData.buffer, headerAndData.byteOffset, headerAndData.byteLength);
  if (local.getUint32(0, true) !== 0x04034b50) throw new Error('Broken zip entry.');
  const dataStart = 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const data = headerAndData.subarray(dataStart, dataStart + entry.compressedSize);
  const text = entry.method === 0 ? new TextDecoder().decode(data) : await inflate(data);
  return JSON.parse(text);
}

function findEntry(cd) {
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder();
  let at = 0;
  while (at + 46 <= cd.length && view.getUint32(at, true) === 0x02014b50) {
    const method = view.getUint16(at + 10, true);
    const compressedSize = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const offset = view.getUint32(at + 42, true);
    const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLength));
    if (name === REPORT || name.endsWith(`/${REPORT}`)) return { method, compressedSize, nameLength, offset };
    at += 46 + nameLength + extraLength + commentLength;
  }
  return null;
}

async function inflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).text();
}
