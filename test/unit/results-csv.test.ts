import { csvCell, resultsCsv } from '../../services/journeys/results-csv';
import type { VersionStats } from '../../services/journeys/results';

describe('results CSV', () => {
  it('defuses cells a spreadsheet would run as formulas, and quotes as CSV needs', () => {
    expect(['=1+1', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx'].map(csvCell)).toEqual(["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "\"'\rx\""]);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-0.25)).toBe('-0.25');
  });

  it('writes an exit reason from the definition defused', () => {
    const none = { total: 0, byReason: {} };
    const stats: VersionStats = {
      version: 2, entered: 1, running: 0, completed: 0, converted: 0, cancelled: 0, failed: 0,
      exited: { total: 1, byReason: { '=HYPERLINK("http://x")': 1 } }, variants: [],
      steps: [{ stepId: 'a', stepType: 'exit', entered: 1, waitingNow: 0, completed: 0, dropOff: { count: 1, rate: 1 }, exited: none, convertedAfter: 0, emailsSent: 0, skipped: none, opened: 0, clicked: 0 }],
    };
    const lines = resultsCsv([stats]).split('\r\n');
    expect(lines).toContain(`2,,,exited,"'=HYPERLINK(""http://x"")",1`);
    expect(lines).toContain('2,a,,drop_off_rate,,1');
  });
});
