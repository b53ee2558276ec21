import { type HostTensor, hostZeros } from "../../tensor/host_tensor.ts";
import type { Conv2dGeometry } from "./conv2d_geometry.ts";

/** Calls `visit(inputIndex, weightIndex, outputIndex)` for every multiply of the convolution. */
function forEachTap(g: Conv2dGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < g.outChannels; co++) {
      const group = Math.floor(co / outPerGroup);
      for (let oh = 0; oh < g.outHeight; oh++) {
        for (let ow = 0; ow < g.outWidth; ow++) {
          const yi = ((n * g.outChannels + co) * g.outHeight + oh) * g.outWidth + ow;
          for (let c = 0; c < inPerGroup; c++) {
            const ci = group * inPerGroup + c;
            for (let kh = 0; kh < g.kernelHeight; kh++) {
              const ih = oh * g.strideH - g.padH + kh * g.dilationH;
              if (ih < 0 || ih >= g.height) continue;
              for (let kw = 0; kw < g.kernelWidth; kw++) {
                const iw = ow * g.strideW - g.padW + kw * g.dilationW;
                if (iw < 0 || iw >= g.width) continue;
                const xi = ((n * g.inChannels + ci) * g.height + ih) * g.width + iw;
                const wi = ((co * inPerGroup + c) * g.kernelHeight + kh) * g.kernelWidth + kw;
                visit(xi, wi, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, w) + b, in f64. */
export function referenceConv2d(x: HostTensor, weight: HostTensor, bias: HostTensor | null, g: Conv2dGeometry): HostTensor {
  const y = hostZeros([g.batch, g.outChannels, g.outHeight, g.outWidth], x.dtype);
  forEachTap(g, (xi, wi, yi) => (y.data[yi] += x.data[xi] * weight.data[wi]));
  if (bias) {
    const plane = g.outHeight * g.outWidth;
    for (let i = 0; i < y.data.length; i++) y.data[i] += bias.data[Math.floor(i / plane) % g.outChannels];
  }
  return y;
}

/** ∂L/∂x given dy (the adjoint of the convolution in x). */
export function referenceConv2dGradInput(dy: HostTensor, weight: HostTensor, g: Conv2dGeometry): HostTensor {
  const dx = hostZeros([g.batch, g.inChannels, g.height, g.width], dy.dtype);
  forEachTap(g, (xi, wi, yi) => (dx.data[xi] += dy.data[yi] * weight.data[wi]));
  return dx;
}

/** ∂L/∂w given dy and x. */
export function referenceConv2dGradWeight(dy: HostTensor, x: HostTensor, g: Conv2dGeometry): HostTensor {
  const dw = hostZeros([g.outChannels, g.inChannels / g.groups, g.kernelHeight, g.kernelWidth], dy.dtype);
  forEachTap(g, (xi, wi, yi) => (dw.data[wi] += dy.data[yi] * x.data[xi]));
  return dw;
}
