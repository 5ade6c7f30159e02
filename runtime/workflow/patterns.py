"""Orchestration patterns as graph builders: sequential, parallel, router, supervisor, debate, consensus.

Each function returns a `Graph` over named agents, so an orchestration is an ordinary durable graph
run: every agent turn is a child run (its own events, tokens rolled up into the orchestration), the
graph state is the orchestration's shared memory, checkpointed after each step, and a crashed or
failed orchestration resumes where it stopped. Register the result with `System.register_workflow`
(or dump it with `dump_workflow` and POST it to `/api/v1/workflows/registry`); `runtime.workflow.orchestrations`
builds them from a JSON definition, which `/api/v1/orchestrations` and `agentstage orchestrations` store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.graph.nodes import AgentNode, ParallelNode, RouterNode

__all__ = ["consensus", "debate", "parallel", "router", "sequential", "supervisor"]


def sequential(name: str, agents: Sequence[str]) -> Graph:
    """Each agent in turn works on the task with the previous agent's result; the last one answers."""
    graph = Graph(name, description=f"sequential: {' -> '.join(agents)}")
    names = [f"{i}_{agent}" for i, agent in enumerate(agents, 1)]
    previous = ""
    for node, agent in zip(names, agents):
        prompt = "Task: {input}" + (f"\nResult so far: {{{previous}}}\nImprove or continue it." if previous else "")
        graph.add(AgentNode(node, agent, prompt, output_key=node))
        previous = node
    return graph.chain(*names).entry(names[0]) if names else graph


def parallel(name: str, agents: Sequence[str], aggregator: str | None = None, *,
             max_concurrency: int | None = None) -> Graph:
    """Every agent answers the task at once; an `aggregator` agent (if given) merges the answers."""
    graph = Graph(name, description=f"parallel: {', '.join(agents)}" + (f", merged by {aggregator}" if aggregator else ""))
    graph.add(ParallelNode("answers", tuple(AgentNode(agent, agent, "{input}") for agent in agents),
                           max_concurrency=max_concurrency))
    if aggregator is None:
        return graph.entry("answers")
    graph.add(AgentNode("merge", aggregator, "Task: {input}\nAnswers by agent: {answers}\nMerge them into one "
                                             "answer.", output_key="output"))
    return graph.chain("answers", "merge").entry("answers")


def router(name: str, classifier: str, routes: Mapping[str, str], default: str) -> Graph:
    """The classifier names a category; the agent routed for it (matched by substring) answers."""
    labels = ", ".join(routes)
    graph = Graph(name, description=f"router: {classifier} picks one of {labels} (else {default})")
    handlers = {agent: f"handle_{agent}" for agent in {*routes.values(), default}}
    graph.add(AgentNode("classify", classifier, f"Answer with one word, one of: {labels}.\n{{input}}",
                        output_key="category"),
              RouterNode("route", {label: handlers[agent] for label, agent in routes.items()}, handlers[default],
                         key="category", match="contains"),
              *(AgentNode(node, agent, "{input}", output_key="output") for agent, node in sorted(handlers.items())))
    return graph.chain("classify", "route").entry("classify")


def supervisor(name: str, lead: str, workers: Sequence[str], *, max_concurrency: int | None = None) -> Graph:
    """The lead plans and assigns, the workers do their parts at once (at most `max_concurrency`), the lead
    reviews and answers."""
    graph = Graph(name, description=f"supervisor: {lead} plans, {', '.join(workers)} work, {lead} reviews")
    graph.add(AgentNode("plan", lead, "Plan this task and say what each of these workers should do ("
                                      + ", ".join(workers) + "):\n{input}", output_key="plan"),
              ParallelNode("work", tuple(AgentNode(worker, worker, f"You are {worker}. Task: {{input}}\nPlan: "
                                                                   f"{{plan}}\nDo your part.") for worker in workers),
                           max_concurrency=max_concurrency),
              AgentNode("review", lead, "Task: {input}\nPlan: {plan}\nWork by worker: {work}\nReview it and give "
                                        "the final answer.", output_key="output"))
    return graph.chain("plan", "work", "review").entry("plan")


def debate(name: str, debaters: Sequence[str], judge: str, rounds: int = 2, *,
           max_concurrency: int | None = None) -> Graph:
    """Debaters argue at once (at most `max_concurrency`) for `rounds` rounds, each round seeing the last; the
    judge decides."""
    if rounds < 1:
        raise ValueError("a debate needs at least one round")
    graph = Graph(name, description=f"debate: {', '.join(debaters)} over {rounds} rounds, judged by {judge}")
    names = []
    for round_no in range(1, rounds + 1):
        seen = f"\nArguments of round {round_no - 1}: {{round_{round_no - 1}}}" if round_no > 1 else ""
        names.append(f"round_{round_no}")
        graph.add(ParallelNode(names[-1], tuple(
            AgentNode(f"{debater}_{round_no}", debater, f"Question: {{input}}{seen}\nYou are {debater}: argue "
                                                       f"your answer (round {round_no} of {rounds}).")
            for debater in debaters), max_concurrency=max_concurrency))
    graph.add(AgentNode("verdict", judge, f"Question: {{input}}\nFinal arguments: {{round_{rounds}}}\nJudge the "
                                          "debate and give the best answer.", output_key="output"))
    return graph.chain(*names, "verdict").entry(names[0])


def consensus(name: str, agents: Sequence[str], judge: str, *, max_concurrency: int | None = None) -> Graph:
    """Every agent answers at once (at most `max_concurrency`); the judge compares their meaning (not their
    wording) and gives the agreed answer or says there is none, as `consensus: yes|no` on its first line."""
    graph = Graph(name, description=f"consensus of {', '.join(agents)}, judged by {judge}")
    graph.add(ParallelNode("answers", tuple(AgentNode(agent, agent, "{input}") for agent in agents),
                           max_concurrency=max_concurrency),
              AgentNode("judge", judge, "Question: {input}\nAnswers by agent: {answers}\nDo they agree in "
                                        "substance? First line: 'consensus: yes' or 'consensus: no'. Then the "
                                        "agreed answer, or the points of disagreement.", output_key="output"))
    return graph.chain("answers", "judge").entry("answers")
