/**
 * Five-field cron schedules as the CronJob controller reads them (robfig/cron's standard parser):
 * lists, ranges, steps, month and weekday names, the @hourly/@daily/... macros, day-of-month OR
 * day-of-week when both are restricted, evaluated on the wall clock of spec.timeZone (UTC when unset,
 * as on EKS).
 */

interface Field {
  values: Set<number>;
  star: boolean;
}

export interface CronSchedule {
  /** The first scheduled time strictly after `after` (ms), or undefined when there is none within years. */
  next(after: number): number | undefined;
  /** The scheduled time as RFC 3339 on the schedule's wall clock (e.g. 2025-05-01T03:00:00+02:00). */
  format(time: number): string;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

function parseField(text: string, min: number, max: number, names?: string[], nameBase = 0): Field {
  const values = new Set<number>();
  let star = false;
  const value = (token: string): number => {
    const lower = token.toLowerCase();
    const named = names?.indexOf(lower) ?? -1;
    if (named >= 0) return named + nameBase;
    if (!/^\d+$/.test(token)) throw new Error(`failed to parse int from ${token}`);
    return Number(token);
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    let low: number;
    let high: number;
    let isStar = false;
    if (range === "*" || range === "?") {
      low = min;
      high = max;
      isStar = true;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      low = value(a);
      high = value(b);
    } else {
      low = value(range);
      high = stepText !== undefined ? max : low;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw new Error(`failed to parse int from ${stepText}`);
    if (low < min || high > max || low > high) {
      throw new Error(`end of range (${high}) above maximum (${max}): ${part}`);
    }
    if (isStar && step === 1) star = true;
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return { values, star };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(time: number, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(time))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: DAYS.indexOf((parts.weekday ?? "").toLowerCase().slice(0, 3)),
  };
}

/** Throws an Error naming what is wrong, as the controller's "unparseable schedule" does. */
export function parseCron(schedule: string, timeZone = "UTC"): CronSchedule {
  const text = MACROS[schedule.trim().toLowerCase()] ?? schedule.trim();
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${schedule}`);
  // Reject an unknown time zone early (Intl throws a RangeError).
  wallClock(0, timeZone);
  const minute = parseField(fields[0]!, 0, 59);
  const hour = parseField(fields[1]!, 0, 23);
  const dom = parseField(fields[2]!, 1, 31);
  const month = parseField(fields[3]!, 1, 12, MONTHS, 1);
  const dowRaw = parseField(fields[4]!, 0, 7, DAYS, 0);
  const dow: Field = { star: dowRaw.star, values: new Set([...dowRaw.values].map((d) => d % 7)) };

  const dayMatches = (day: number, weekday: number) => {
    const domOk = dom.values.has(day);
    const dowOk = dow.values.has(weekday);
    return dom.star || dow.star ? domOk && dowOk : domOk || dowOk;
  };

  return {
    next(after) {
      let t = Math.floor(after / 60_000) * 60_000 + 60_000;
      for (let guard = 0; guard < 200_000; guard++) {
        const w = wallClock(t, timeZone);
        const toMidnight = ((24 - w.hour) * 60 - w.minute) * 60_000;
        if (!month.values.has(w.month) || !dayMatches(w.day, w.weekday)) {
          t += toMidnight;
          continue;
        }
        if (!hour.values.has(w.hour)) {
          t += (60 - w.minute) * 60_000;
          continue;
        }
        if (!minute.values.has(w.minute)) {
          t += 60_000;
          continue;
        }
        return t;
      }
      return undefined;
    },
    format(time) {
      const w = wallClock(time, timeZone);
      const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
      const offset = Math.round((asUtc - Math.floor(time / 1000) * 1000) / 60_000);
      const pad = (n: number) => String(Math.abs(n)).padStart(2, "0");
      const local = `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
      return offset === 0
        ? `${local}Z`
        : `${local}${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
    },
  };
}
