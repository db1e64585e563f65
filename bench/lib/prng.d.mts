/** mulberry32 from `seed`: each call, the next float in [0, 1). */
export function prng(seed: number): () => number;
