import { dailyFigures } from './quotas.service';

describe('dailyFigures', () => {
  it('lists every day from the 1st to today, carrying the month figure over days without a report', () => {
    const days = dailyFigures(
      '2026-12',
      [
        { day: '2026-12-02', used: 300 },
        { day: '2026-12-04', used: 250 },
      ],
      new Date('2026-12-05T10:00:00Z'),
    );
    expect(days).toEqual([
      { date: '2026-12-01', used: 0, total: 0 },
      { date: '2026-12-02', used: 300, total: 300 },
      { date: '2026-12-03', used: 0, total: 300 },
      { date: '2026-12-04', used: -50, total: 250 },
      { date: '2026-12-05', used: 0, total: 250 },
    ]);
  });

  it('stops at the end of a past month (February of a leap year has 29 days)', () => {
    const days = dailyFigures('2028-02', [{ day: '2028-02-29', used: 7 }], new Date('2028-03-10T00:00:00Z'));
    expect(days).toHaveLength(29);
    expect(days[28]).toEqual({ date: '2028-02-29', used: 7, total: 7 });
  });
});
