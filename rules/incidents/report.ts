import type { FieldValue } from '../model/reading.js';
import type { Incident, IncidentEvent } from './incident.js';
import type { Playbook } from './playbook.js';

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
  by?: string;
  evidence?: Text;
  escalated: number;
  fields: { name: string; label: Text; value: FieldValue | undefined; required: boolean }[];
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
  owner?: string;
  acknowledgedAfterS?: number;
  steps: StepReport[];
  tasks: { task: string; title: Text; done: boolean; by?: string; doneAfterMin?: number }[];
  /** Required fields still empty: a report with these is not complete. */
  missing: string[];
  timeline: { at: number; text: Text }[];
}

const minutes = (ms: number) => Math.round(ms / 6000) / 10;

export function buildReport(inc: Incident, playbook: Playbook, now: number): IncidentReport {
  const steps: StepReport[] = playbook.steps.map((s) => {
    const st = inc.steps[s.id]!;
    const doneAfterMin = st.doneAt !== undefined ? minutes(st.doneAt - inc.raisedAt) : undefined;
    const late = s.deadline_min !== undefined && (doneAfterMin ?? minutes(now - inc.raisedAt)) > s.deadline_min;
    return {
      step: s.id,
      title: s.title,
      role: s.role,
      ...(s.deadline_min !== undefined ? { deadlineMin: s.deadline_min } : {}),
      ...(doneAfterMin !== undefined ? { doneAfterMin } : {}),
      ...(s.deadline_min !== undefined && (doneAfterMin !== undefined || late) ? { met: !late } : {}),
      ...(st.by ? { by: st.by } : {}),
      ...(st.evidence ? { evidence: st.evidence } : {}),
      escalated: st.escalated,
      fields: s.record.map((f) => ({ name: f.name, label: f.label, value: st.fields[f.name], required: f.required })),
    };
  });
  return {
    id: inc.id,
    title: inc.title,
    playbook: inc.playbook,
    ...(inc.building ? { building: inc.building } : {}),
    ...(inc.drill ? { drill: inc.drill } : {}),
    status: inc.status,
    raisedAt: inc.raisedAt,
    ...(inc.closedAt !== undefined ? { closedAt: inc.closedAt } : {}),
    ...(inc.owner ? { owner: inc.owner } : {}),
    ...(inc.acknowledgedAt !== undefined ? { acknowledgedAfterS: Math.round((inc.acknowledgedAt - inc.raisedAt) / 1000) } : {}),
    steps,
    tasks: Object.entries(inc.tasks).map(([task, t]) => ({ task, title: t.title, done: t.done, ...(t.by ? { by: t.by } : {}), ...(t.doneAt !== undefined ? { doneAfterMin: minutes(t.doneAt - inc.raisedAt) } : {}) })),
    missing: steps.flatMap((s) => s.fields.filter((f) => f.required && (f.value === undefined || f.value === '')).map((f) => `${s.step}.${f.name}`)),
    timeline: inc.timeline.map((e) => ({ at: e.at, text: describeEvent(e, playbook) })),
  };
}

/** One timeline event in words, both languages. */
export function describeEvent(e: IncidentEvent, playbook: Playbook): Text {
  const step = (id: string) => playbook.steps.find((s) => s.id === id)?.title ?? { zh: id, en: id };
  switch (e.type) {
    case 'raised':
      return e.by ? { zh: `${e.by} 手动创建事件`, en: `opened by ${e.by}` } : { zh: `告警触发：${e.alarmId ?? ''}`, en: `raised by alarm ${e.alarmId ?? ''}` };
    case 'alarm_attached':
      return { zh: `关联告警 ${e.kind}（${e.deviceId}）`, en: `alarm ${e.kind} on ${e.deviceId} attached` };
    case 'acknowledged':
      return { zh: `${e.by} 接警并负责`, en: `acknowledged by ${e.by}, who owns the case` };
    case 'step_started':
      return { zh: `${e.by} 开始：${step(e.step).zh}`, en: `${e.by} started: ${step(e.step).en}` };
    case 'step_done': {
      const f = Object.entries(e.fields).map(([k, v]) => `${k}=${String(v)}`).join(', ');
      return e.evidence
        ? { zh: `传感器确认完成：${step(e.step).zh}（${e.evidence.zh}）`, en: `done by sensor evidence: ${step(e.step).en} (${e.evidence.en})` }
        : { zh: `${e.by} 完成：${step(e.step).zh}${f ? `；${f}` : ''}${e.note ? `；${e.note}` : ''}`, en: `${e.by} done: ${step(e.step).en}${f ? `; ${f}` : ''}${e.note ? `; ${e.note}` : ''}` };
    }
    case 'escalated':
      return { zh: `超时升级至 ${e.to}（第 ${e.level} 级）：${step(e.step).zh}`, en: `overdue, escalated to ${e.to} (level ${e.level}): ${step(e.step).en}` };
    case 'note':
      return { zh: `${e.by}：${e.text}`, en: `${e.by}: ${e.text}` };
    case 'handed_over':
      return { zh: `${e.from} 交接给 ${e.to}${e.note ? `：${e.note}` : ''}`, en: `handed over from ${e.from} to ${e.to}${e.note ? `: ${e.note}` : ''}` };
    case 'task_added':
      return { zh: `新任务：${e.title.zh}`, en: `task: ${e.title.en}` };
    case 'task_done':
      return e.evidence ? { zh: `任务完成（${e.evidence.zh}）：${e.task}`, en: `task done (${e.evidence.en}): ${e.task}` } : { zh: `${e.by} 完成任务 ${e.task}`, en: `${e.by} did task ${e.task}` };
    case 'alarm_cleared':
      return { zh: `告警恢复：${e.alarmId}`, en: `alarm cleared: ${e.alarmId}` };
    case 'notification':
      return { zh: `通知 ${e.channel}（${e.to}）第 ${e.attempt} 次：${e.outcome}${e.detail ? ` ${e.detail}` : ''}`, en: `notify ${e.channel} (${e.to}) attempt ${e.attempt}: ${e.outcome}${e.detail ? ` ${e.detail}` : ''}` };
    case 'closed':
      return { zh: `${e.by} 关闭事件${e.note ? `：${e.note}` : ''}`, en: `closed by ${e.by}${e.note ? `: ${e.note}` : ''}` };
  }
}
