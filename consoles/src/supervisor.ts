// The supervisor view (R16, R17; issue 18.3 and 18.6): the queues with their statistics, the
// sessions waiting for an agent and the live ones, every 2 s. A supervisor offers or assigns a
// waiting session to an agent, re-queues it or ends it; takes over a live session (it opens as
// a tab of the dashboard, where the supervisor is its controller and keeps it present, S4) or
// ends it. Every refusal is shown as the API words it.
import {
  type Api,
  byId,
  displayNumber,
  element,
  type RelayAddress,
  type Schemas,
  say,
} from "./api";

type Waiting = Schemas["WaitingSession"];
type Row = Schemas["SessionRow"];
type Stats = Schemas["QueueStats"];

const seconds = (s: number | null | undefined) => (s == null ? "none" : `${Math.round(s)} s`);

/** One list item per key, kept between polls (a field being typed in stays as it is): new
 * keys get an item made, gone keys lose theirs, every kept one has its words updated. */
class Items<T> {
  private readonly shown = new Map<string, { item: HTMLElement; words: HTMLElement }>();

  constructor(
    private readonly list: HTMLElement,
    private readonly none: HTMLElement,
    private readonly make: (value: T, item: HTMLElement) => void,
  ) {}

  show(values: T[], key: (value: T) => string, words: (value: T) => string): void {
    const keys = new Set(values.map(key));
    for (const [k, { item }] of this.shown) {
      if (!keys.has(k)) {
        item.remove();
        this.shown.delete(k);
      }
    }
    values.forEach((value, at) => {
      let entry = this.shown.get(key(value));
      if (!entry) {
        const item = element("li");
        entry = { item, words: element("span") };
        item.append(entry.words);
        this.make(value, item);
        this.shown.set(key(value), entry);
      }
      entry.words.textContent = words(value);
      const there = this.list.children[at] ?? null; // in the answer's order, moved only if
      if (there !== entry.item) this.list.insertBefore(entry.item, there); // not (focus stays)
    });
    this.none.hidden = values.length > 0;
  }
}

function statsRow(q: Stats): HTMLElement {
  const level = q.interval.service_level;
  const a = q.agents;
  const cells = [
    q.name,
    String(q.waiting),
    seconds(q.longest_wait_seconds),
    level == null ? "none yet" : `${Math.round(level * 100)} %`,
    `${q.interval.answered} / ${q.interval.offered}`,
    String(q.interval.abandoned),
    `${a.available ?? 0} / ${a.busy ?? 0} / ${a.wrapping_up ?? 0} / ${a.away ?? 0}`,
  ];
  const row = element("tr");
  row.append(
    element("th", cells[0], { scope: "row" }),
    ...cells.slice(1).map((c) => element("td", c)),
  );
  return row;
}

export function supervisorView(
  api: Api,
  open: (sessionId: string, relay: RelayAddress) => void,
): void {
  byId("supervisor").hidden = false;
  const problem = byId("problem");
  let queues: Stats[] = [];
  const step = async (outcome: Promise<{ error?: unknown; response: Response }>): Promise<void> => {
    const answered = await outcome;
    if (answered.error) say(problem, answered);
    else problem.hidden = true;
    void poll();
  };

  const waiting = new Items<Waiting>(byId("waiting-sessions"), byId("no-waiting"), (w, item) => {
    const path = { params: { path: { session_id: String(w.session_id) } } };
    const agent = element("input", "", { "aria-label": "Agent id", placeholder: "agent id" });
    const offer = element("button", "Offer", { type: "button" });
    offer.addEventListener("click", () => {
      const body = { agent_id: agent.value.trim() };
      void step(api.POST("/v1/supervisor/sessions/{session_id}/offer", { ...path, body }));
    });
    const assign = element("button", "Assign", { type: "button" });
    assign.addEventListener("click", () => {
      const body = { agent_id: agent.value.trim() };
      void step(api.POST("/v1/supervisor/sessions/{session_id}/assign", { ...path, body }));
    });
    const queue = element("select", "", { "aria-label": "Queue" });
    for (const q of queues) queue.append(element("option", q.name, { value: String(q.queue_id) }));
    const requeue = element("button", "Re-queue", { type: "button" });
    requeue.addEventListener("click", () => {
      const body = { queue_id: queue.value };
      void step(api.POST("/v1/supervisor/sessions/{session_id}/requeue", { ...path, body }));
    });
    const end = element("button", "End", { type: "button" });
    end.addEventListener("click", () => {
      void step(api.POST("/v1/supervisor/sessions/{session_id}/end", path));
    });
    item.append(agent, offer, assign, queue, requeue, end);
  });

  const live = new Items<Row>(byId("live-sessions"), byId("no-live"), (row, item) => {
    const path = { params: { path: { session_id: String(row.session_id) } } };
    const number = row.session_number_display;
    const take = element("button", "Take over", { type: "button" });
    take.setAttribute("aria-label", `Take over session ${number}`);
    take.addEventListener("click", async () => {
      const outcome = await api.POST("/v1/supervisor/sessions/{session_id}/take-over", path);
      if (!outcome.data) return say(problem, outcome);
      problem.hidden = true;
      open(String(row.session_id), outcome.data);
      void poll();
    });
    const end = element("button", "End", { type: "button" });
    end.setAttribute("aria-label", `End session ${number}`);
    end.addEventListener("click", () => {
      void step(api.POST("/v1/supervisor/sessions/{session_id}/end", path));
    });
    item.append(take, end);
  });

  const poll = async () => {
    const [stats, queued, running] = await Promise.all([
      api.GET("/v1/queues/stats"),
      api.GET("/v1/supervisor/waiting"),
      api.GET("/v1/supervisor/sessions", { params: { query: { status: "live" } } }),
    ]);
    if (stats.data) {
      queues = stats.data.queues;
      byId("queue-stats").replaceChildren(...queues.map(statsRow));
      byId("no-queues").hidden = queues.length > 0;
    }
    if (queued.data) {
      waiting.show(
        queued.data.sessions,
        (w) => String(w.session_id),
        (w) => {
          const where = w.queue_name ?? `agents ${w.named_agents.join(", ")}`;
          const place = w.position == null ? "" : `, number ${w.position} in the queue`;
          const offered = w.offered_to.length ? `, offered to ${w.offered_to.join(", ")}` : "";
          return `Waiting in ${where} for ${seconds(w.waited_seconds)}${place}${offered} `;
        },
      );
    }
    if (running.data) {
      live.show(
        running.data.sessions,
        (r) => String(r.session_id),
        (r) => {
          const customers = r.participants.filter((p) => p.role === "customer").map((p) => p.name);
          const since = new Date(r.started_at).toLocaleTimeString();
          return `Session ${displayNumber(r.session_number)}: ${r.controller_name ?? "nobody"} controls, customers: ${customers.join(", ") || "none"}, since ${since} `;
        },
      );
    }
  };
  void poll();
  setInterval(() => void poll(), 2000);
}
