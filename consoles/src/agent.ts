// The agent view (issue 16.3): availability (available, away, offline) and, away or offline,
// why (a reason of the site's list, R12); the status as routing has it (it sets away an agent
// who lets offers expire, R13); the offers with their hand-off message and a countdown to
// expiry, Accept and Decline; an accepted session opens as a tab of the dashboard (``open``),
// where the agent is its controller; the sessions it wraps up (R11), each finished with a code
// of the queue's list.
import { type Api, byId, element, type Offer, type RelayAddress, type Schemas, say } from "./api";

type Status = "available" | "away" | "offline";
type WrapUp = Schemas["WrapUp"];

/** R12, R13: the agent's state in words. */
function described(agent: Schemas["Agent"]): string {
  if (agent.reason === "not_responding") {
    return "Routing set you away: you let offers expire (not responding). Choose available to get offers again.";
  }
  const why = agent.reason ? ` (${agent.reason.replaceAll("_", " ")})` : "";
  return `You are ${agent.status}${why}.`;
}

export function agentView(api: Api, open: (sessionId: string, relay: RelayAddress) => void): void {
  byId("agent").hidden = false;
  const problem = byId("problem");
  const radios = [...document.querySelectorAll<HTMLInputElement>("input[name=availability]")];
  const reason = byId<HTMLSelectElement>("status-reason");
  const chosen = (): Status => (radios.find((r) => r.checked)?.value ?? "offline") as Status;
  let sent = 0; // when a change was last sent: the poll does not undo a change on its way
  const send = async () => {
    sent = Date.now();
    const status = chosen();
    byId("reason-field").hidden = status === "available";
    const why = status === "available" ? null : reason.value || null;
    const outcome = await api.PUT("/v1/agents/me/status", { body: { status, reason: why } });
    if (outcome.error) say(problem, outcome);
    else byId("agent-status").textContent = described(outcome.data.agent);
  };
  for (const radio of radios) radio.addEventListener("change", () => void send());
  reason.addEventListener("change", () => void send());
  void api.GET("/v1/status-reasons").then(({ data }) => {
    for (const word of data?.reasons ?? []) {
      reason.append(element("option", word.replaceAll("_", " "), { value: word }));
    }
  });
  let offers: Offer[] = [];
  let wrapUps: WrapUp[] = [];
  const wrapping = (wrapUp: WrapUp): HTMLElement => {
    const by = new Date(wrapUp.until).toLocaleTimeString();
    const item = element("li", `A session ended: wrap it up by ${by} `);
    const code = element("select", "", { "aria-label": "Wrap-up code" });
    code.append(
      element("option", wrapUp.code_required ? "choose a code" : "no code", { value: "" }),
    );
    for (const word of wrapUp.codes) {
      code.append(element("option", word.replaceAll("_", " "), { value: word }));
    }
    const finish = element("button", "Finish wrap-up", { type: "button" });
    finish.addEventListener("click", async () => {
      const path = { params: { path: { session_id: String(wrapUp.session_id) } } };
      const body = { code: code.value || null };
      const outcome = await api.POST("/v1/agents/me/wrap-ups/{session_id}/finish", {
        ...path,
        body,
      });
      if (!outcome.data) return say(problem, outcome);
      wrapUps = outcome.data.agent.wrap_ups ?? [];
      renderWrapUps();
    });
    if (wrapUp.codes.length > 0) item.append(code);
    item.append(finish);
    return item;
  };
  const renderWrapUps = () => {
    byId("no-wrap-ups").hidden = wrapUps.length > 0;
    byId("wrap-ups").replaceChildren(...wrapUps.map(wrapping));
  };
  const render = () => {
    byId("no-offers").hidden = offers.length > 0;
    byId("offers").replaceChildren(...offers.map((offer) => offered(offer)));
  };
  const offered = (offer: Offer): HTMLElement => {
    const seconds = Math.max(0, Math.round((Date.parse(offer.expires_at) - Date.now()) / 1000));
    const from = offer.queue_name ? `from ${offer.queue_name}` : "for you by name";
    const item = element("li", `A session ${from}: "${offer.message ?? ""}", ${seconds} s left`);
    const path = { params: { path: { offer_id: String(offer.offer_id) } } };
    const accept = element("button", "Accept", { type: "button" });
    accept.addEventListener("click", async () => {
      const outcome = await api.POST("/v1/offers/{offer_id}/accept", path);
      if (!outcome.data) return say(problem, outcome);
      offers = offers.filter((o) => o.offer_id !== offer.offer_id);
      render();
      open(String(offer.session_id), outcome.data);
    });
    const decline = element("button", "Decline", { type: "button" });
    decline.addEventListener("click", async () => {
      const outcome = await api.POST("/v1/offers/{offer_id}/decline", path);
      if (outcome.error) say(problem, outcome);
    });
    item.append(accept, decline);
    return item;
  };
  const poll = async () => {
    const { data } = await api.GET("/v1/agents/me");
    if (data) {
      offers = data.agent.offers ?? [];
      const shown = JSON.stringify(wrapUps.map((w) => w.session_id));
      wrapUps = data.agent.wrap_ups ?? [];
      if (JSON.stringify(wrapUps.map((w) => w.session_id)) !== shown) renderWrapUps(); // keep a chosen code
      if (Date.now() - sent > 3000) {
        byId("agent-status").textContent = described(data.agent);
        for (const radio of radios) radio.checked = radio.value === data.agent.status;
        byId("reason-field").hidden = data.agent.status === "available";
        const listed = [...reason.options].some((o) => o.value === data.agent.reason);
        reason.value = listed ? (data.agent.reason ?? "") : ""; // not_responding is not a choice
      }
    }
    render();
  };
  void poll();
  setInterval(() => void poll(), 2000);
  setInterval(render, 1000); // the countdown
}
