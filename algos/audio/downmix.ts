/** Mean of the channels of interleaved PCM: the mono downmix tosia uses everywhere. */
export function downmix(interleaved: Float32Array, channels: number): Float32Array {
  if (channels <= 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  const inv = 1 / channels;
  for (let f = 0, j = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, j++) acc += interleaved[j]!;
    out[f] = acc * inv;
  }
  return out;
}

/** Mean of planar channels (one array per channel, equal lengths). */
export function downmixPlanar(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] = out[i]! + c[i]!;
  const inv = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] = out[i]! * inv;
  return out;
}
