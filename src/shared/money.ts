/** Money is stored as integer units of 1e-8 BTC (satoshi) and sent as a number of BTC. */
export const UNITS_PER_BTC = 100_000_000;

export function btcToUnits(btc: number): number {
  return Math.round(btc * UNITS_PER_BTC);
}

export function unitsToBtc(units: number | string | bigint): number {
  return Number(units) / UNITS_PER_BTC;
}
