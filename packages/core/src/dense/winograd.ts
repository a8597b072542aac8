// Evaluation's fused conv5x5 (SAME, stride 1) + bias + ReLU + 2x2 max-pool by Winograd's
// F(2x2, 5x5): the filter transform U = G g G^T (here, in float64, rounded once to float32), and a
// float32 TypeScript twin of the WebAssembly kernel (assembly/kernels/WinogradConvPool.ts) doing the same
// operations in the same order, so both give the same bits (it runs where WebAssembly SIMD does
// not, and on the cpu backend). F(2x2, 5x5) uses the interpolation points 0, 1, -1, 2, -2 and
// infinity; with B^T below, A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 1]] and G = N / D.
// A tile is 6x6 inputs at (2ty - 2, 2tx - 2) for the 2x2 outputs at (2ty, 2tx): one pooling window.

/** G's rows as integer numerators N and denominators D (G = diag(1/D) N). */
const G_NUM = [
  [1, 0, 0, 0, 0],
  [1, 1, 1, 1, 1],
  [1, -1, 1, -1, 1],
  [1, 2, 4, 8, 16],
  [1, -2, 4, -8, 16],
  [0, 0, 0, 0, 1],
];
const G_DEN = [4, -6, -6, 24, 24, 1];

/** Geometry of one fused conv + bias + ReLU + pool: x[batch][h][w][c], filter [5][5][c][co]. */
export interface WinogradGeometry {
  batch: number;
  h: number;
  w: number;
  c: number;
  co: number;
}

/** True when the geometry is one the fused Winograd path computes (even height and width). */
export function winogradFits(shape: readonly number[], filterShape: readonly number[]): boolean {
  const [, h, w] = shape;
  return shape.length === 4 && filterShape[0] === 5 && filterShape[1] === 5 && h % 2 === 0 && w % 2 === 0 && h > 0 && w > 0;
}

/**
 * U = G g G^T for the filter w[5][5][c][co] (HWIO), packed u[xi][coPanel][c][16] for the 36
 * tile positions xi = 6a + b and co in panels of 16 (zero-padded): each value summed in float64 in
 * a fixed order and divided by D[a] D[b], then rounded once to float32.
 */
export function winogradFilter(w: Float32Array, c: number, co: number): Float32Array {
  const panels = Math.ceil(co / 16);
  const u = new Float32Array(36 * panels * c * 16);
  const g = new Float64Array(25);
  const t = new Float64Array(30);
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < co; o++) {
      for (let k = 0; k < 25; k++) g[k] = w[(k * c + ci) * co + o];
      // t[a][l] = sum over k of N[a][k] g[k][l]
      for (let a = 0; a < 6; a++) {
        for (let l = 0; l < 5; l++) {
          let s = 0;
          for (let k = 0; k < 5; k++) s += G_NUM[a][k] * g[k * 5 + l];
          t[a * 5 + l] = s;
        }
      }
      for (let a = 0; a < 6; a++) {
        for (let b = 0; b < 6; b++) {
          let s = 0;
          for (let l = 0; l < 5; l++) s += t[a * 5 + l] * G_NUM[b][l];
          u[((a * 6 + b) * panels + (o >> 4)) * c * 16 + ci * 16 + (o & 15)] = s / (G_DEN[a] * G_DEN[b]);
        }
      }
    }
  }
  return u;
}

const f = Math.fround;

/** B^T applied to d[0..5] (float32 operations in the kernel's order), into out[at + i * step]. */
function inputRows(d: Float32Array | number[], out: Float32Array, at: number, step: number): void {
  const [d0, d1, d2, d3, d4, d5] = d;
  out[at] = f(f(f(4 * d0) - f(5 * d2)) + d4);
  out[at + step] = f(f(d3 + d4) - f(4 * f(d1 + d2)));
  out[at + 2 * step] = f(f(d4 - d3) + f(4 * f(d1 - d2)));
  out[at + 3 * step] = f(f(d4 - d2) + f(2 * f(d3 - d1)));
  out[at + 4 * step] = f(f(d4 - d2) - f(2 * f(d3 - d1)));
  out[at + 5 * step] = f(f(f(4 * d1) - f(5 * d3)) + d5);
}

/** ReLU as tfjs-backend-wasm's for finite values: x when x > 0, else +0 (-0 included). */
function relu(x: number): number {
  return x > 0 ? x : 0;
}

/**
 * out[batch][h/2][w/2][co] = maxPool2x2(relu(conv5x5_same(x, w) + bias)) with the convolution by
 * F(2x2, 5x5) from the packed transform u (winogradFilter): bitwise the WebAssembly kernel's.
 * Returns false when a value before ReLU was infinite or NaN, as the kernel's flag says.
 */
export function winogradConvPool(x: Float32Array, u: Float32Array, bias: Float32Array, out: Float32Array, g: WinogradGeometry): boolean {
  let finite = true;
  const { batch, h, w, c, co } = g;
  const panels = Math.ceil(co / 16);
  const th = h / 2,
    tw = w / 2;
  const tmp = new Float32Array(36);
  const col = new Float32Array(6);
  const v = new Float32Array(36 * c);
  const m = new Float32Array(36);
  for (let n = 0; n < batch; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const y0 = 2 * ty - 2,
          x0 = 2 * tx - 2;
        // v[xi][ci] = (B^T d B)[xi] for every input channel.
        for (let ci = 0; ci < c; ci++) {
          for (let j = 0; j < 6; j++) {
            for (let i = 0; i < 6; i++) {
              const yy = y0 + i,
                xx = x0 + j;
              col[i] = yy >= 0 && yy < h && xx >= 0 && xx < w ? x[((n * h + yy) * w + xx) * c + ci] : 0;
            }
            inputRows(col, tmp, j, 6);
          }
          for (let i = 0; i < 6; i++) inputRows(tmp.subarray(i * 6, i * 6 + 6), v, i * 6 * c + ci, c);
        }
        const o = ((n * th + ty) * tw + tx) * co;
        for (let oc = 0; oc < co; oc++) {
          const ub = (oc >> 4) * c * 16 + (oc & 15);
          for (let xi = 0; xi < 36; xi++) {
            let acc = 0;
            const ux = xi * panels * c * 16 + ub;
            for (let ci = 0; ci < c; ci++) acc = f(acc + f(v[xi * c + ci] * u[ux + ci * 16]));
            m[xi] = acc;
          }
          const s0: number[] = [],
            s1: number[] = [];
          for (let b = 0; b < 6; b++) {
            const [m0, m1, m2, m3, m4, m5] = [m[b], m[6 + b], m[12 + b], m[18 + b], m[24 + b], m[30 + b]];
            s0.push(f(f(f(m1 + m2) + f(m3 + m4)) + m0));
            s1.push(f(f(f(m1 - m2) + f(2 * f(m3 - m4))) + m5));
          }
          const b0 = bias[oc];
          const y = [s0, s1].flatMap((s) => [
            f(f(f(f(s[1] + s[2]) + f(s[3] + s[4])) + s[0]) + b0),
            f(f(f(f(s[1] - s[2]) + f(2 * f(s[3] - s[4]))) + s[5]) + b0),
          ]);
          finite &&= y.every(Number.isFinite);
          out[o + oc] = Math.max(Math.max(relu(y[0]), relu(y[1])), Math.max(relu(y[2]), relu(y[3])));
        }
      }
    }
  }
  return finite;
}
