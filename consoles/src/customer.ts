// The customer's pages (issue 16.4): Join, by the invitation's link or by the session number
// and a name, then the Remote Support page of the joined customer: who is helping, who is in
// the session, and what happened and why, live, until the session ends.
import {
  apiClient,
  byId,
  displayNumber,
  element,
  endReason,
  follow,
  learnNames,
  refusal,
  type Session,
  told,
} from "./api";

type Joined = { session_id: string; participant_id: string; participant_token: string };

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
      problem.textContent = refusal(error, response);
      problem.hidden = false;
      return;
    }
    joined = { ...data, session_id: String(data.session_id) };
    sessionStorage.setItem(KEPT, JSON.stringify(joined));
    void remoteSupport(joined);
  });
}

function show(session: Session, me: string): void {
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
  await follow(
    me.session_id,
    me.participant_token,
    (event) => {
      learnNames(event, names);
      const words = told(event, names);
      if (words) happened.append(element("li", words));
      if (event.type === "SessionEnded") {
        byId("ended").textContent =
          `The session has ended (${endReason(event)}). You may close this page.`;
        byId("ended").hidden = false;
        byId("helping").textContent = "";
        sessionStorage.removeItem(KEPT);
      } else {
        void refresh();
      }
    },
    new AbortController().signal,
  );
}

if (joined && !new URLSearchParams(location.search).has("token")) {
  void remoteSupport(joined);
} else {
  setUpJoin();
}
