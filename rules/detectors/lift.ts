import type { Live } from '../site-facts.js';
import { bool, num, str } from '../site-facts.js';
import { evidence, type CheckInput, type Detector } from './detector.js';

// DOMAIN.md §2 Lifts (GB/T 24476 terms). Skipped while the lift is in inspection or
// maintenance mode: engineers work in the car and these states are expected.

const LIFT_FIELDS = ['floor', 'direction', 'in_door_zone', 'door', 'occupied', 'alarm_button', 'mode'];

const inService = (live: Live | undefined) => {
  const mode = str(live, 'mode');
  return mode !== 'inspection' && mode !== 'maintenance';
};
const stopped = (live: Live | undefined) => str(live, 'direction') === 'stopped';
const floorText = (live: Live | undefined) => num(live, 'floor') ?? '?';

const lift = (check: (input: CheckInput) => ReturnType<Detector['check']>) => (input: CheckInput) =>
  input.device.kind === 'lift' && inService(input.live) ? check(input) : undefined;

export const trappedBetweenFloors: Detector = {
  kind: 'lift_entrapment',
  variant: 'not_level',
  applies: (d) => d.kind === 'lift',
  durations: (t) => ({ forS: t.lift_trapped_s, clearS: 10 }),
  check: lift(({ device, live }) => {
    if (!(
      bool(live, 'occupied') &&
      bool(live, 'in_door_zone') === false &&
      str(live, 'door') === 'closed' &&
      stopped(live)
    ))
      return undefined;
    return evidence(
      `轿厢有人，停在 ${floorText(live)} 层附近非平层，门关闭：非平层困人`,
      `occupied car stopped between floors near ${floorText(live)}, door closed: passengers trapped`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const trappedAtFloor: Detector = {
  kind: 'lift_entrapment',
  variant: 'at_floor',
  applies: (d) => d.kind === 'lift',
  durations: (t) => ({ forS: t.lift_trapped_s, clearS: 10 }),
  check: lift(({ device, live }) => {
    if (!(
      bool(live, 'occupied') &&
      bool(live, 'in_door_zone') === true &&
      str(live, 'door') === 'closed' &&
      stopped(live)
    ))
      return undefined;
    return evidence(
      `轿厢有人，平层停在 ${floorText(live)} 层但门不开：平层关人`,
      `occupied car level at floor ${floorText(live)} but the door stays closed: passengers shut in`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const alarmButton: Detector = {
  kind: 'lift_entrapment',
  variant: 'alarm_button',
  applies: (d) => d.kind === 'lift',
  durations: () => ({ forS: 0, clearS: 30 }),
  check: lift(({ device, live }) => {
    if (!(bool(live, 'alarm_button') && stopped(live))) return undefined;
    return evidence(
      `轿厢警铃按下，电梯停在 ${floorText(live)} 层`,
      `alarm button pressed in the car, stopped at floor ${floorText(live)}`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const stoppedOutOfZone: Detector = {
  kind: 'lift_stopped_out_of_zone',
  applies: (d) => d.kind === 'lift',
  durations: (t) => ({ forS: t.lift_out_of_zone_s, clearS: 10 }),
  check: lift(({ device, live }) => {
    if (!(bool(live, 'occupied') === false && bool(live, 'in_door_zone') === false && stopped(live))) return undefined;
    return evidence(
      `空轿厢停在 ${floorText(live)} 层附近门区外`,
      `empty car stopped outside the door zone near floor ${floorText(live)}`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const doorFault: Detector = {
  kind: 'lift_door_fault',
  applies: (d) => d.kind === 'lift',
  durations: () => ({ forS: 0, clearS: 30 }),
  check: lift(({ device, live }) => {
    const door = str(live, 'door');
    const open = door === 'open' || door === 'opening';
    const moving = str(live, 'direction') === 'up' || str(live, 'direction') === 'down';
    if (!(open && (moving || bool(live, 'in_door_zone') === false))) return undefined;
    return evidence(
      moving
        ? `电梯运行中门开启（${floorText(live)} 层附近）：开门走车`
        : `电梯在门区外开门（${floorText(live)} 层附近）`,
      moving
        ? `door open while the car moves (near floor ${floorText(live)})`
        : `door open outside the door zone (near floor ${floorText(live)})`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const overtravel: Detector = {
  kind: 'lift_overtravel',
  applies: (d) => d.kind === 'lift' && d.floorRange !== undefined,
  durations: (t) => ({ forS: t.lift_overtravel_s, clearS: 10 }),
  check: lift(({ device, live }) => {
    const floor = num(live, 'floor');
    const range = device.floorRange!;
    const dir = str(live, 'direction');
    const top = floor !== undefined && floor >= range.highest && dir === 'up';
    const bottom = floor !== undefined && floor <= range.lowest && dir === 'down';
    if (!((top || bottom) && bool(live, 'in_door_zone') === false)) return undefined;
    return evidence(
      top ? `电梯在顶层 ${floor} 层继续上行未平层：冲顶` : `电梯在底层 ${floor} 层继续下行未平层：蹲底`,
      top
        ? `car at the top floor ${floor} still going up, not level: over-travel`
        : `car at the bottom floor ${floor} still going down, not level: over-travel`,
      live,
      device.id,
      LIFT_FIELDS,
    );
  }),
};

export const LIFT_DETECTORS: Detector[] = [
  trappedBetweenFloors,
  trappedAtFloor,
  alarmButton,
  stoppedOutOfZone,
  doorFault,
  overtravel,
];
