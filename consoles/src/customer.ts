// The customer's pages (issue 16.4): Join, by the invitation's link or by the session number
// and a name, then the Remote Support page of the joined customer: who is helping, who is in
// the session, and what happened and why, live, until the session ends.
import {
  apiClient,
  byId,
  ChatPanel,
  displayNumber,
  element,
  endReason,
  follow,
  learnNames,
  RelayChannel,
  type Session,
  say,
  told,
} from "./api";
import { ScreenPanel } from "./screen";

type Joined = {
  session_id: string;
  participant_id: string;
  participant_token: string;
  relay_url: string;
  request?: { queue_id: string; request_id: string }; // asked through a queue's entry form
};

const KEPT = "support.customer";
let joined: Joined | null = JSON.parse(sessionStorage.getItem(KEPT) ?? "null");
const api = apiClient(() => joined?.participant_token ?? null);
const names = new Map<string, string>();

function setUpJoin(): void {
  const token = new URLSearchParams(location.search).get("token");
  const number = byId<HTMLInputElement>("number");
  if (token) {
    byId("by-link").hidden = false;
    byId("by-number").hidden = true;
  } else {
    number.required = true;
  }
  byId<HTMLFormElement>("join").addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = byId("problem");
    problem.hidden = true;
    const name = byId<HTMLInputElement>("name").value;
    const body = token ? { token, name } : { session_number: number.value, name };
    const { data, error, response } = await api.POST("/v1/join", { body });
    if (!data) {
      say(problem, { error, response });
      return;
    }
    joined = { ...data, session_id: String(data.session_id) };
    sessionStorage.setItem(KEPT, JSON.stringify(joined));
    void remoteSupport(joined);
  });
}

const ENTRY_FORM = /^\/queues\/([^/]+)\/form$/;

function setUpEntryForm(queueId: string): void {
  const form = byId<HTMLFormElement>("request");
  byId("join").hidden = true;
  form.hidden = false;
  byId("title").textContent = "Ask for help";
  document.title = "Ask for help";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = byId("request-problem-said");
    problem.hidden = true;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
    const body = { name: field("name"), email: field("email"), problem: field("problem") };
    const path = { path: { queue_id: queueId } };
    const { data, error, response } = await api.POST("/v1/queues/{queue_id}/requests", {
      params: path,
      body,
    });
    if (!data) {
      say(problem, { error, response }); // closed: when it opens (R8)
      return;
    }
    joined = {
      session_id: String(data.session_id),
      participant_id: data.participant_id,
      participant_token: data.participant_token,
      relay_url: data.relay_url,
      request: { queue_id: queueId, request_id: String(data.request_id) },
    };
    sessionStorage.setItem(KEPT, JSON.stringify(joined));
    form.hidden = true;
    void remoteSupport(joined);
  });
}

/** R5: the place in the queue and the estimated wait, while the customer waits (the
 * session's status says so; routing may not have queued it yet at the first ask). */
async function waitInLine(me: Joined): Promise<void> {
  const standing = byId("standing");
  while (me.request && stillWaiting) {
    const { data } = await api.GET("/v1/queues/{queue_id}/requests/{request_id}", {
      params: { path: me.request },
    });
    if (data && stillWaiting) {
      const wait = data.estimated_wait_seconds;
      standing.textContent =
        `You are number ${data.position ?? "?"} of ${data.waiting} waiting; ` +
        (wait == null ? "the wait cannot be estimated yet." : `about ${minutes(wait)} to wait.`);
      standing.hidden = false;
    }
    await new Promise((resolve) => setTimeout(resolve, data ? 2000 : 250));
  }
  standing.hidden = true;
}

function minutes(seconds: number): string {
  const whole = Math.max(1, Math.round(seconds / 60));
  return whole === 1 ? "a minute" : `${whole} minutes`;
}

let chat: ChatPanel | null = null;
let screen: ScreenPanel | null = null; // M2: the active customer may share its own screen
let stillWaiting = true; // until the session is taken or ends

function show(session: Session, me: string): void {
  stillWaiting = session.status === "waiting";
  const chatting = session.activities.some((a) => a.kind === "chat");
  chat?.running(chatting);
  byId("no-chat").hidden = chatting;
  const sharing = session.activities.some((a) => a.kind === "desktop_sharing");
  const live = session.status !== "ended";
  screen?.may(live && session.active_customer === me, sharing);
  for (const p of session.participants) names.set(p.id, p.name);
  byId("session-number").textContent = displayNumber(session.session_number);
  const controller = session.participants.find((p) => p.id === session.controller);
  byId("helping").textContent =
    session.status === "waiting"
      ? "Waiting for an agent to take your session"
      : controller
        ? `${controller.name} is helping you`
        : "";
  const list = byId("people");
  list.replaceChildren(
    ...session.participants.map((p) => {
      const you = p.id === me ? " (you)" : "";
      const active = p.id === session.active_customer ? ", active" : "";
      return element("li", `${p.name}${you}: ${p.role}${active}`);
    }),
  );
}

async function remoteSupport(me: Joined): Promise<void> {
  byId("join").hidden = true;
  byId("support").hidden = false;
  void waitInLine(me);
  const relay = new RelayChannel(
    me,
    (notice) => {
      chat?.heard(notice);
      screen?.heard(notice);
    },
    (frame) => screen?.frame(frame),
  );
  chat = new ChatPanel(relay, byId("chat"), byId<HTMLFormElement>("say"), names);
  screen = new ScreenPanel(relay, () => me.participant_id, names, {
    share: byId<HTMLButtonElement>("share"),
    stop: byId<HTMLButtonElement>("stop-share"),
    view: byId("screen"),
  });
  relay.open();
  byId("title").textContent = "Remote support";
  document.title = "Remote support";
  const refresh = async () => {
    const { data } = await api.GET("/v1/sessions/{session_id}", {
      params: { path: { session_id: me.session_id } },
    });
    if (data) show(data, me.participant_id);
  };
  await refresh();
  const happened = byId("happened");
  await follow(me.session_id, me.participant_token, (event) => {
    learnNames(event, names);
    const words = told(event, names);
    if (words) happened.append(element("li", words));
    if (event.type === "SessionEnded") {
      stillWaiting = false;
      byId("ended").textContent =
        `The session has ended (${endReason(event)}). You may close this page.`;
      byId("ended").hidden = false;
      byId("helping").textContent = "";
      chat?.running(false); // the relay has closed the channel
      byId("no-chat").hidden = true;
      sessionStorage.removeItem(KEPT);
    } else {
      void refresh();
    }
  });
}

// the session this tab joined goes on after a reload; a new invitation's link, or another
// queue's form, starts anew
const asking = ENTRY_FORM.exec(location.pathname)?.[1];
const invited = new URLSearchParams(location.search).has("token");
if (joined && !invited && (!asking || joined.request?.queue_id === asking)) {
  void remoteSupport(joined);
} else if (asking) {
  setUpEntryForm(asking);
} else {
  setUpJoin();
}
