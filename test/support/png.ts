// PNG decoding for screenshots, with Node's zlib: 8-bit RGB or RGBA, not
// interlaced, which is what Chromium writes. Anything else is refused by name.
import { inflateSync } from 'node:zlib';

export interface Picture {
  width: number;
  height: number;
  /** Four bytes a pixel, RGBA, row after row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The predictor of PNG's filter type 4. */
function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const [dl, du, dul] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
  return dl <= du && dl <= dul ? left : du <= dul ? up : upLeft;
}

export function decodePng(png: Buffer): Picture {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`PNG of bit depth ${depth}, colour type ${colour}, interlace ${interlace}: only 8-bit RGB or RGBA, not interlaced`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (filter > 4) throw new Error(`PNG filter type ${filter} is not one of 0 to 4`);
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? rows[y * stride + x - channels] : 0;
      const up = y > 0 ? rows[(y - 1) * stride + x] : 0;
      const upLeft = x >= channels && y > 0 ? rows[(y - 1) * stride + x - channels] : 0;
      const predicted = filter === 0 ? 0 : filter === 1 ? left : filter === 2 ? up : filter === 3 ? (left + up) >> 1 : paeth(left, up, upLeft);
      rows[y * stride + x] = (line[x] + predicted) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(rows.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? rows[i * channels + 3] : 255;
  }
  return { width, height, rgba };
}

/** The share of the picture's pixels not of its most common colour: 0 for a blank page. */
export function shareNotBackground(picture: Picture): number {
  const counts = new Map<number, number>();
  const pixels = new DataView(picture.rgba.buffer, picture.rgba.byteOffset, picture.rgba.byteLength);
  for (let i = 0; i < picture.width * picture.height; i++) {
    const colour = pixels.getUint32(i * 4);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  const most = Math.max(...counts.values());
  return 1 - most / (picture.width * picture.height);
}
