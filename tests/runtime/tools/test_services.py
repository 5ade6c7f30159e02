"""Outside-service tools: CLI tools fail with a clear reason; kubectl protects system namespaces."""

import pytest

from agentstage.runtime.errors import ToolError


def test_kubectl_refuses_deletes_in_system_namespaces(tools) -> None:
    with pytest.raises(ToolError, match="blocked"):
        tools.get("kubectl")({"operation": "delete", "resource": "pod", "name": "x", "namespace": "kube-system"})


def test_service_tools_fail_with_a_reason_not_a_crash(tools) -> None:
    for name, arguments in (("docker", {"operation": "ps", "timeout": 20}),
                            ("kubectl", {"operation": "get", "resource": "pods", "timeout": 20}),
                            ("k3s", {"operation": "status"}), ("cron_manager", {"operation": "list"})):
        try:
            result = tools.get(name)(arguments)
        except ToolError as exc:
            assert name in exc.message
        else:
            assert result["operation"] == arguments["operation"]
