// /favicon.ico of the deployment's own hosts (browsers ask for it on every panel visit): a 16×16
// ICO, a white "T" on the panel's blue, made once from a pixel mask so no binary file is needed.
// Tracking hosts never get here (src/edge answers them first with its 404 page).

/** Browsers may keep the icon a week. Unit: seconds. */
export const FAVICON_MAX_AGE_SECONDS = 7 * 24 * 3600;

const SIZE = 16;
// "#" is the letter; everything else the background.
const MASK = [
  "................",
  "................",
  "..############..",
  "..############..",
  "..############..",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "......####......",
  "................",
  "................",
];
const BLUE = [0xd0, 0x57, 0x0b, 0xff]; // #0b57d0 as B, G, R, A
const WHITE = [0xff, 0xff, 0xff, 0xff];

function buildIco(): Uint8Array {
  const pixels = SIZE * SIZE * 4;
  const andMask = SIZE * 4; // one bit per pixel, rows padded to 32 bits
  const image = 40 + pixels + andMask;
  const bytes = new Uint8Array(6 + 16 + image);
  const view = new DataView(bytes.buffer);
  // ICONDIR: reserved, type 1 (icon), one image.
  view.setUint16(2, 1, true);
  view.setUint16(4, 1, true);
  // ICONDIRENTRY: 16×16, no palette, 1 plane, 32 bits, its size and offset.
  bytes[6] = SIZE;
  bytes[7] = SIZE;
  view.setUint16(10, 1, true);
  view.setUint16(12, 32, true);
  view.setUint32(14, image, true);
  view.setUint32(18, 22, true);
  // BITMAPINFOHEADER: the height counts the colour rows and the AND mask's.
  view.setUint32(22, 40, true);
  view.setInt32(26, SIZE, true);
  view.setInt32(30, SIZE * 2, true);
  view.setUint16(34, 1, true);
  view.setUint16(36, 32, true);
  view.setUint32(42, pixels + andMask, true);
  // Rows bottom-up, BGRA; the AND mask stays zero (alpha decides).
  for (let row = 0; row < SIZE; row++) {
    const line = MASK[SIZE - 1 - row]!;
    for (let col = 0; col < SIZE; col++) bytes.set(line[col] === "#" ? WHITE : BLUE, 62 + (row * SIZE + col) * 4);
  }
  return bytes;
}

const ICO = buildIco();

export function faviconResponse(): Response {
  return new Response(ICO, { headers: { "content-type": "image/x-icon", "cache-control": `public, max-age=${FAVICON_MAX_AGE_SECONDS}` } });
}
