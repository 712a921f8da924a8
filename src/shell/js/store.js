// Where the session record lives: memory, `sessionStorage` or `localStorage`, under one
// namespaced key. Web storage can throw at any moment (disabled, private mode, quota, sandboxed
// iframe): the store then falls back to memory, keeping what it was asked to hold, and reports
// why through `fail(detail)` so the app can be told.

import { cause } from './errors.js';

export class Store {
  /** `mode` is "memory", "session" or "local". */
  constructor(mode, key, fail) {
    this.key = key;
    this.fail = fail;
    /** The web storage area written to; null in memory. */
    this.area = null;
    this.held = null;
    if (mode === 'memory') return;
    try {
      this.area = globalThis.window?.[mode === 'local' ? 'localStorage' : 'sessionStorage'] ?? null;
      if (!this.area) fail('web storage is unavailable');
    } catch (e) {
      fail(cause('web storage is unavailable', e));
    }
    this.local = mode === 'local';
  }

  /** Whether other tabs see this store (`localStorage`), so tabs must coordinate. */
  get shared() {
    return this.local === true && this.area !== null;
  }

  /** The record (null: none), or undefined when reading failed (the store is memory now). */
  read() {
    if (!this.area) return this.held;
    try {
      return this.area.getItem(this.key);
    } catch (e) {
      this.area = null;
      this.held = null;
      this.fail(cause('reading web storage failed', e));
      return undefined;
    }
  }

  /** Writes (a string) or removes (null) the record. */
  write(record) {
    if (this.area) {
      try {
        if (record === null) this.area.removeItem(this.key);
        else this.area.setItem(this.key, record);
        return;
      } catch (e) {
        this.area = null;
        this.fail(cause('writing web storage failed', e));
      }
    }
    this.held = record;
  }
}
