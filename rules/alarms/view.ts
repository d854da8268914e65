import type { AlarmKind } from './kinds.js';
import type { Alarm } from './lifecycle.js';

// In a file of its own, with nothing but types around it, so the dashboard can take the
// shape the API sends without pulling the engine into its build.

/** An alarm as the duty room sees it: with what mutes it, if anything. */
export interface AlarmView extends Alarm {
  /** Muted by a lost supply above the device, or (device offline) by the gateway's own link being down. */
  inhibitedBy?: { alarmId: string; kind: AlarmKind; deviceId: string } | { link: string };
  /** Muted by a silence or maintenance window (still shown). */
  silencedBy?: { id: string; by: string; reason: string; until: number; maintenance: boolean };
}
