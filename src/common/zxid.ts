// Zxid: 64 bits, epoch in the high 32, counter in the low 32 (as ZooKeeper).
import { assert } from './assert.js';

export function makeZxid(epoch: number, counter: number): bigint {
  assert(Number.isInteger(epoch) && epoch >= 0 && epoch <= 0xffffffff, 'epoch is u32');
  assert(Number.isInteger(counter) && counter >= 0 && counter <= 0xffffffff, 'counter is u32');
  return (BigInt(epoch) << 32n) | BigInt(counter);
}
export function zxidEpoch(zxid: bigint): number {
  return Number(zxid >> 32n);
}
export function zxidCounter(zxid: bigint): number {
  return Number(zxid & 0xffffffffn);
}
export function zxidHex(zxid: bigint): string {
  return '0x' + zxid.toString(16);
}
