import type { Principal } from '../auth/principal';
import { MemoryAdmissionStore } from '../store/memory-admission.store';
import { IN_FLIGHT_WINDOW_MS, KeyRevocations, MAX_REMEMBERED } from './key-revocations';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const keyId = (n: number) => `key_${n.toString(16).padStart(28, '0')}`;
const caller = (id: string) => ({ kind: 'api_key', requestId: 'req_test', key: { id } }) as unknown as Principal;
/** Lets the event's store read (a resolved promise on the in-process store) complete. */
const settle = () => new Promise<void>((resolve) => jest.requireActual<typeof import('timers')>('timers').setImmediate(resolve));

describe('KeyRevocations', () => {
  let store: MemoryAdmissionStore;
  let sut: KeyRevocations;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    store = new MemoryAdmissionStore();
    sut = new KeyRevocations(store);
  });
  afterEach(async () => {
    sut.onModuleDestroy();
    await store.close();
    jest.useRealTimers();
  });

  describe('bounded memory', () => {
    it('forgets a revocation once no request admitted before it can still be in flight', () => {
      sut.note(keyId(1), T0);
      jest.advanceTimersByTime(IN_FLIGHT_WINDOW_MS - 1);
      expect(sut.isRevoked(keyId(1))).toBe(true);
      expect(sut.inFlightVerdict(caller(keyId(1)), T0 - 1)).toBe('revoked');
      jest.advanceTimersByTime(2);
      expect(sut.isRevoked(keyId(1))).toBe(false);
      jest.advanceTimersByTime(IN_FLIGHT_WINDOW_MS);
      expect(sut.size).toBe(0);
    });

    it('keeps a scheduled revocation (rotation grace) until its window after the time it takes effect', () => {
      const stopsAt = T0 + 86_400_000;
      sut.note(keyId(1), stopsAt);
      jest.advanceTimersByTime(86_400_000 - 1);
      expect(sut.isRevoked(keyId(1))).toBe(false);
      jest.advanceTimersByTime(1);
      expect(sut.isRevoked(keyId(1))).toBe(true);
      jest.advanceTimersByTime(IN_FLIGHT_WINDOW_MS - 1);
      expect(sut.isRevoked(keyId(1))).toBe(true);
    });

    it('stays bounded over many revocations, keeping those still within their window', () => {
      for (let n = 0; n < 5 * MAX_REMEMBERED; n++) {
        sut.note(keyId(n), Date.now());
        jest.advanceTimersByTime(20); // 50 revocations a second, for over an hour
      }
      expect(sut.size).toBeLessThanOrEqual(MAX_REMEMBERED);
      expect(sut.isRevoked(keyId(5 * MAX_REMEMBERED - 1))).toBe(true);
      expect(sut.inFlightVerdict(caller(keyId(5 * MAX_REMEMBERED - 1)), T0)).toBe('revoked');
      // none was dropped before its time: the instance still trusts what it heard
      expect(sut.inFlightVerdict(caller(keyId(0)), Date.now())).toBe('live');
      // and once they are all past their window, they are all gone
      jest.advanceTimersByTime(2 * IN_FLIGHT_WINDOW_MS);
      expect(sut.size).toBe(0);
    });

    it('never answers "live" for a key forgotten early for room: the store decides until its window ends', () => {
      for (let n = 0; n < MAX_REMEMBERED + 10; n++) sut.note(keyId(n), T0 + 1000);
      expect(sut.size).toBe(MAX_REMEMBERED);
      jest.advanceTimersByTime(1000);
      expect(sut.isRevoked(keyId(0))).toBe(false); // evicted
      expect(sut.inFlightVerdict(caller(keyId(0)), T0)).toBe('ask-store');
      expect(sut.inFlightVerdict(caller(keyId(MAX_REMEMBERED + 9)), T0)).toBe('revoked');
      jest.advanceTimersByTime(IN_FLIGHT_WINDOW_MS);
      expect(sut.inFlightVerdict(caller(keyId(0)), Date.now())).toBe('live');
    });
  });

  describe('events are hints: the store decides', () => {
    it('ignores an announced revocation of a key the store says is live', async () => {
      await store.putKey(keyId(1), { revokeAtMs: null, expiresAtMs: null });
      await store.publish({ type: 'key.revoked', keyId: keyId(1), revokeAtMs: T0 - 1000 });
      await settle();
      expect(sut.isRevoked(keyId(1))).toBe(false);
      expect(sut.inFlightVerdict(caller(keyId(1)), T0)).toBe('live');
      expect(sut.size).toBe(0);
    });

    it('ignores an announced revocation of a key the store does not know', async () => {
      await store.publish({ type: 'key.revoked', keyId: keyId(2) });
      await settle();
      expect(sut.size).toBe(0);
    });

    it("notes the store's revocation time, not the event's", async () => {
      await store.putKey(keyId(1), { revokeAtMs: T0 + 5000, expiresAtMs: null });
      await store.publish({ type: 'key.revoked', keyId: keyId(1), revokeAtMs: T0 - 1000 });
      await settle();
      expect(sut.isRevoked(keyId(1))).toBe(false);
      jest.advanceTimersByTime(5000);
      expect(sut.isRevoked(keyId(1))).toBe(true);
    });

    it('sends in-flight checks on that key to the store while the event is being confirmed', async () => {
      let answer!: (at: number | null) => void;
      jest.spyOn(store, 'keyRevokeAt').mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
      await store.publish({ type: 'key.revoked', keyId: keyId(1) });
      expect(sut.inFlightVerdict(caller(keyId(1)), T0)).toBe('ask-store');
      expect(sut.inFlightVerdict(caller(keyId(2)), T0)).toBe('live');
      answer(T0);
      await settle();
      expect(sut.inFlightVerdict(caller(keyId(1)), T0)).toBe('revoked');
    });

    it('sends every in-flight check to the store for a while when the store cannot be read', async () => {
      jest.spyOn(store, 'keyRevokeAt').mockRejectedValueOnce(new Error('Connection is closed.'));
      await store.publish({ type: 'key.revoked', keyId: keyId(1) });
      await settle();
      expect(sut.inFlightVerdict(caller(keyId(2)), T0)).toBe('ask-store');
      jest.advanceTimersByTime(IN_FLIGHT_WINDOW_MS);
      expect(sut.inFlightVerdict(caller(keyId(2)), Date.now())).toBe('live');
    });
  });
});
