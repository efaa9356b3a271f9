/** Members per page of `GET /list/{id}/contacts`. */
export const LIST_PAGE_SIZE = 100;

/**
 * A list's members in the order they joined. Paging resumes after a sequence number, so members
 * removed between pages never shift the remaining ones; removals leave tombstones that are compacted
 * once they outnumber live members.
 */
export class ListRecord {
  readonly members = new Map<string, number>();
  private seqs: number[] = [];
  private ids: string[] = [];
  private nextSeq = 1;
  private tombstones = 0;

  constructor(
    readonly listId: string,
    readonly title: string,
    readonly createdAt: number,
  ) {}

  add(contactId: string): boolean {
    if (this.members.has(contactId)) return false;
    const seq = this.nextSeq++;
    this.members.set(contactId, seq);
    this.seqs.push(seq);
    this.ids.push(contactId);
    return true;
  }

  remove(contactId: string): boolean {
    if (!this.members.delete(contactId)) return false;
    this.tombstones++;
    if (this.tombstones > 1024 && this.tombstones > this.members.size) this.compact();
    return true;
  }

  /** Up to `size` member ids after sequence number `afterSeq`, and whether more follow. */
  page(afterSeq: number, size: number): { ids: string[]; lastSeq: number; more: boolean } {
    const ids: string[] = [];
    let lastSeq = afterSeq;
    let i = this.firstIndexAfter(afterSeq);
    for (; i < this.ids.length && ids.length < size; i++) {
      if (this.isLive(i)) {
        ids.push(this.ids[i]);
        lastSeq = this.seqs[i];
      }
    }
    while (i < this.ids.length && !this.isLive(i)) i++;
    return { ids, lastSeq, more: i < this.ids.length };
  }

  private isLive(index: number): boolean {
    return this.members.get(this.ids[index]) === this.seqs[index];
  }

  private firstIndexAfter(seq: number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.seqs[mid] <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private compact(): void {
    const seqs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      if (this.isLive(i)) {
        seqs.push(this.seqs[i]);
        ids.push(this.ids[i]);
      }
    }
    this.seqs = seqs;
    this.ids = ids;
    this.tombstones = 0;
  }
}
