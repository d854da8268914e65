import { describeDeviceCommand } from './device-command.js';
import { isRequired, missingIn, type Incident, type IncidentEvent, type RecordValue } from './incident.js';
import { fieldsText, valueText } from './values.js';

export { valueText };
import type { DutyRole, Playbook, Step } from './playbook.js';

// What an incident report says, as data: each step against its target, the fields the plan
// says must be recorded, and the whole timeline in words. Rendering (HTML, CSV) is the
// gateway's job; the content is decided here so every format says the same.

type Text = { zh: string; en: string };

export interface StepReport {
  step: string;
  title: Text;
  role: string;
  deadlineMin?: number;
  /** Minutes from the incident start to done; undefined while not done. */
  doneAfterMin?: number;
  /** Met its deadline; undefined when the step has none or is not done yet and not late. */
  met?: boolean;
  /** Who closed it: a person, or `sensor` (then `evidence` says what the sensors showed). */
  by?: string;
  evidence?: Text;
  /** The person who added the records to a step the sensors closed. */
  recordedBy?: string;
  escalated: number;
  /** It does not apply to this incident: why. */
  skipped?: Text;
  /** `text`: the value in words (a choice's label, a group's items), both languages. */
  fields: { name: string; label: Text; value: RecordValue | undefined; text?: Text; required: boolean }[];
}

export interface IncidentReport {
  id: string;
  title: Text;
  playbook: string;
  building?: string;
  drill?: string;
  status: Incident['status'];
  raisedAt: number;
  closedAt?: number;
  /** Minutes from raised to closed (to now while open). */
  durationMin: number;
  /** The devices the incident is about: its own, then those of its alarms, in order. */
  devices: string[];
  owner?: string;
  acknowledgedAfterS?: number;
  steps: StepReport[];
  tasks: {
    task: string;
    title: Text;
    done: boolean;
    by?: string;
    evidence?: Text;
    doneAfterMin?: number;
    reopened: number;
  }[];
  /** Required fields still empty: a report with these is not complete. */
  missing: string[];
  timeline: { at: number; text: Text }[];
  /** Photos from the scene, in order: their stored names (GET /api/incidents/:id/photos/:name). */
  photos: { at: number; by: string; name: string; caption?: string }[];
}

const minutes = (ms: number) => Math.round(ms / 6000) / 10;

export function buildReport(inc: Incident, playbook: Playbook, now: number, people?: People): IncidentReport {
  // A closed incident is judged at its close: a step still open then was missed then, not later.
  const end = inc.closedAt ?? now;
  const steps = playbook.steps.map((s) => stepReport(s, inc, end));
  return {
    id: inc.id,
    title: inc.title,
    playbook: inc.playbook,
    ...(inc.building ? { building: inc.building } : {}),
    ...(inc.drill ? { drill: inc.drill } : {}),
    status: inc.status,
    raisedAt: inc.raisedAt,
    ...(inc.closedAt !== undefined ? { closedAt: inc.closedAt } : {}),
    durationMin: minutes(end - inc.raisedAt),
    devices: [
      ...new Set([
        ...(inc.deviceId ? [inc.deviceId] : []),
        ...inc.alarms.map((a) => a.deviceId).filter((d): d is string => d !== undefined),
      ]),
    ],
    ...(inc.owner ? { owner: inc.owner } : {}),
    ...(inc.acknowledgedAt !== undefined
      ? { acknowledgedAfterS: Math.round((inc.acknowledgedAt - inc.raisedAt) / 1000) }
      : {}),
    steps,
    tasks: Object.entries(inc.tasks).map(([task, t]) => ({
      task,
      title: t.title,
      done: t.done,
      ...(t.by ? { by: t.by } : {}),
      ...(t.evidence ? { evidence: t.evidence } : {}),
      ...(t.doneAt !== undefined ? { doneAfterMin: minutes(t.doneAt - inc.raisedAt) } : {}),
      reopened: t.reopened,
    })),
    missing: playbook.steps.flatMap((s) =>
      inc.steps[s.id]?.status === 'skipped'
        ? []
        : missingIn(s.record, inc.steps[s.id]?.fields ?? {}).map((f) => `${s.id}.${f.split(' ')[0]}`),
    ),
    timeline: inc.timeline.map((e) => ({ at: e.at, text: describeEvent(e, playbook, inc, people) })),
    photos: inc.timeline.flatMap((e) =>
      e.type === 'photo' ? [{ at: e.at, by: e.by, name: e.name, ...(e.caption ? { caption: e.caption } : {}) }] : [],
    ),
  };
}

const ROLE: Record<DutyRole, Text> = {
  duty_engineer: { zh: '值班工程师', en: 'duty engineer' },
  security: { zh: '保安', en: 'security' },
  duty_manager: { zh: '值班经理', en: 'duty manager' },
  engineering_manager: { zh: '工程部经理', en: 'engineering manager' },
  maintenance_contractor: { zh: '维保单位', en: 'maintenance contractor' },
  customer_service: { zh: '客服', en: 'customer service' },
  head_office: { zh: '总部', en: 'head office' },
};

/** How the site names a person: display name, and their duty role when they have one. */
export type People = (username: string) => { name: Text; role?: Text } | undefined;

/** A duty role in words. */
export function roleText(r: DutyRole): Text {
  return ROLE[r] ?? { zh: r, en: r };
}

/** One step against its target: done in time, late, or still open at `end`. */
function stepReport(s: Step, inc: Incident, end: number): StepReport {
  const st = inc.steps[s.id] ?? { status: 'pending', fields: {}, escalated: 0 };
  const doneAfterMin = st.doneAt !== undefined ? minutes(st.doneAt - inc.raisedAt) : undefined;
  const late =
    st.status !== 'skipped' &&
    s.deadline_min !== undefined &&
    (doneAfterMin ?? minutes(end - inc.raisedAt)) > s.deadline_min;
  return {
    step: s.id,
    title: s.title,
    role: s.role,
    ...(s.deadline_min !== undefined ? { deadlineMin: s.deadline_min } : {}),
    ...(doneAfterMin !== undefined ? { doneAfterMin } : {}),
    ...(s.deadline_min !== undefined && (doneAfterMin !== undefined || late) ? { met: !late } : {}),
    ...(st.by ? { by: st.by } : {}),
    ...(st.evidence ? { evidence: st.evidence } : {}),
    ...(st.recordedBy ? { recordedBy: st.recordedBy } : {}),
    escalated: st.escalated,
    ...(st.skipped ? { skipped: st.skipped } : {}),
    fields: s.record.map((f) => {
      const value = st.fields[f.name];
      return {
        name: f.name,
        label: f.label,
        value,
        ...(value !== undefined ? { text: valueText(f, value) } : {}),
        required: st.status !== 'skipped' && isRequired(f, st.fields),
      };
    }),
  };
}

/** One timeline event in words, both languages. Sensors and the gateway are named as such, never as a person (I7). */
// eslint-disable-next-line max-lines-per-function -- one short phrase per event type, both languages: a table
export function describeEvent(e: IncidentEvent, playbook: Playbook, inc?: Incident, people?: People): Text {
  // People by their display name and duty role when the site knows them ("Otto, duty engineer").
  const nameOf = (u: string): Text => people?.(u)?.name ?? { zh: u, en: u };
  const who = (u: string): Text => {
    const role = people?.(u)?.role;
    const name = nameOf(u);
    return role ? { zh: `${name.zh}（${role.zh}）`, en: `${name.en}, ${role.en}` } : name;
  };
  const step = (id: string) => playbook.steps.find((s) => s.id === id)?.title ?? { zh: id, en: id };
  const task = (id: string) =>
    inc?.timeline.find(
      (x): x is Extract<IncidentEvent, { type: 'task_added' }> => x.type === 'task_added' && x.task === id,
    )?.title ?? { zh: id, en: id };
  switch (e.type) {
    case 'raised':
      return e.by
        ? { zh: `${who(e.by).zh} 手动创建事件`, en: `opened by ${who(e.by).en}` }
        : { zh: `告警触发：${e.alarmId ?? ''}`, en: `raised by alarm ${e.alarmId ?? ''}` };
    case 'alarm_attached':
      return { zh: `关联告警 ${e.kind}（${e.deviceId}）`, en: `alarm ${e.kind} on ${e.deviceId} attached` };
    case 'alarm_refired':
      return { zh: `告警再次触发：${e.alarmId}`, en: `alarm fired again: ${e.alarmId}` };
    case 'acknowledged':
      return { zh: `${who(e.by).zh} 接警并负责`, en: `acknowledged by ${who(e.by).en}, who owns the case` };
    case 'alerted':
      return {
        zh: `事件开启，立即通知：${e.to.map((r) => ROLE[r].zh).join('、')}`,
        en: `opened: ${e.to.map((r) => ROLE[r].en).join(', ')} told at once`,
      };
    case 'step_started':
      return { zh: `${who(e.by).zh} 开始：${step(e.step).zh}`, en: `${who(e.by).en} started: ${step(e.step).en}` };
    case 'step_done': {
      const words = fieldsText(playbook.steps.find((s) => s.id === e.step)?.record ?? [], e.fields);
      if (e.evidence)
        return {
          zh: `传感器确认完成（非人工）：${step(e.step).zh}（${e.evidence.zh}）`,
          en: `closed by the sensors, not a person: ${step(e.step).en} (${e.evidence.en})`,
        };
      const after = inc?.steps[e.step]?.evidence && inc.steps[e.step]!.doneAt! < e.at;
      return after
        ? {
            zh: `${who(e.by).zh} 补充记录：${step(e.step).zh}${words.zh ? `；${words.zh}` : ''}${e.note ? `；${e.note}` : ''}`,
            en: `${who(e.by).en} added the records of: ${step(e.step).en}${words.en ? `; ${words.en}` : ''}${e.note ? `; ${e.note}` : ''}`,
          }
        : {
            zh: `${who(e.by).zh} 完成：${step(e.step).zh}${words.zh ? `；${words.zh}` : ''}${e.note ? `；${e.note}` : ''}`,
            en: `${who(e.by).en} done: ${step(e.step).en}${words.en ? `; ${words.en}` : ''}${e.note ? `; ${e.note}` : ''}`,
          };
    }
    case 'photo':
      return {
        zh: `${who(e.by).zh} 上传现场照片${e.caption ? `：${e.caption}` : ''}`,
        en: `${who(e.by).en} added a photo from the scene${e.caption ? `: ${e.caption}` : ''}`,
      };
    case 'step_skipped':
      return {
        zh: `不适用，跳过：${step(e.step).zh}——${e.reason.zh}`,
        en: `does not apply, skipped: ${step(e.step).en} — ${e.reason.en}`,
      };
    case 'evidence_seen':
      return {
        zh: `传感器显示：${e.evidence.zh}；该步骤需人工记录后完成：${step(e.step).zh}`,
        en: `the sensors show: ${e.evidence.en}; a person must record and close: ${step(e.step).en}`,
      };
    case 'escalated':
      return {
        zh: `超时升级至${ROLE[e.to].zh}（第 ${e.level} 级）：${step(e.step).zh}`,
        en: `overdue, escalated to the ${ROLE[e.to].en} (level ${e.level}): ${step(e.step).en}`,
      };
    case 'task_escalated':
      return {
        zh: `任务超时升级至${ROLE[e.to].zh}（第 ${e.level} 级）：${task(e.task).zh}`,
        en: `task overdue, escalated to the ${ROLE[e.to].en} (level ${e.level}): ${task(e.task).en}`,
      };
    case 'note':
      return { zh: `${who(e.by).zh}：${e.text}`, en: `${who(e.by).en}: ${e.text}` };
    case 'handed_over':
      if (e.by)
        return {
          zh: `${nameOf(e.by).zh}（值班经理）将 ${who(e.from).zh} 负责的事件转交 ${who(e.to).zh}，原因：${e.note ?? ''}`,
          en: `${nameOf(e.by).en} (duty manager) moved the case from ${who(e.from).en} to ${who(e.to).en}; reason: ${e.note ?? ''}`,
        };
      return {
        zh: `${who(e.from).zh} 交接给 ${who(e.to).zh}${e.note ? `：${e.note}` : ''}`,
        en: `handed over from ${who(e.from).en} to ${who(e.to).en}${e.note ? `: ${e.note}` : ''}`,
      };
    case 'task_added':
      return { zh: `新任务：${e.title.zh}`, en: `task: ${e.title.en}` };
    case 'task_done':
      return e.evidence
        ? {
            zh: `传感器确认完成任务（非人工）：${task(e.task).zh}（${e.evidence.zh}）`,
            en: `task closed by the sensors, not a person: ${task(e.task).en} (${e.evidence.en})`,
          }
        : {
            zh: `${who(e.by).zh} 完成任务：${task(e.task).zh}${e.note ? `；${e.note}` : ''}`,
            en: `${who(e.by).en} did: ${task(e.task).en}${e.note ? `; ${e.note}` : ''}`,
          };
    case 'task_reopened':
      return {
        zh: `任务重新打开：${task(e.task).zh}（${e.reason.zh}）`,
        en: `task open again: ${task(e.task).en} (${e.reason.en})`,
      };
    case 'alarm_cleared':
      return { zh: `告警恢复：${e.alarmId}`, en: `alarm cleared: ${e.alarmId}` };
    case 'notification': {
      const what = e.step ? step(e.step) : e.task ? task(e.task) : { zh: '事件开启', en: 'incident opened' };
      return {
        zh: `通知 ${e.channel}（${ROLE[e.to].zh}，${what.zh}）第 ${e.attempt} 次：${e.outcome}${e.detail ? ` ${e.detail}` : ''}`,
        en: `notify ${e.channel} (${ROLE[e.to].en}, ${what.en}) attempt ${e.attempt}: ${e.outcome}${e.detail ? ` ${e.detail}` : ''}`,
      };
    }
    case 'device_command':
      return describeDeviceCommand(e);
    case 'closed':
      if (e.reason === 'drill_ended')
        return {
          zh: `演练结束，事件自动关闭${e.note ? `：${e.note}` : ''}`,
          en: `closed by the gateway: the drill ended${e.note ? ` (${e.note})` : ''}`,
        };
      return {
        zh: `${who(e.by).zh} 关闭事件${e.note ? `：${e.note}` : ''}`,
        en: `closed by ${who(e.by).en}${e.note ? `: ${e.note}` : ''}`,
      };
  }
}
