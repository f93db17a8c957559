import { describe, expect, test } from 'vitest';
import { fitGrid, gridColumns } from './tiles';

describe('grid', () => {
  test('one tile fills the box', () => {
    expect(gridColumns(1, 16 / 9)).toBe(1);
  });
  test('four tiles in a 16:9 box make a 2×2 grid', () => {
    expect(fitGrid(4, 1600, 900).cols).toBe(2);
  });
  test('an unmeasured box still gives a sane column count', () => {
    expect(fitGrid(5, 0, 0)).toEqual({ cols: 2, tileWidth: 0 });
  });
});
