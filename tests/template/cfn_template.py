"""Load template.yaml and evaluate the parts of CloudFormation the template tests need.

* `load(path)` reads YAML with CloudFormation's short-form tags (`!Ref`, `!Sub`, `!If`,
  `!GetAtt`, ...) turned into their long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`).
* `Resolver` evaluates intrinsic functions for a given set of parameter values (the
  template's defaults unless overridden): `Ref` to parameters and pseudo parameters,
  `Fn::Sub`, `Fn::If` with the template's `Conditions`, `Fn::Equals/Not/And/Or`,
  `Fn::Join/Split/Select`, and `AWS::NoValue` removal. References to resources become
  readable placeholders (`<Ref BackupVault>`, `<GetAtt StateTable.Arn>`), so tests can
  assert *which* resource a value points at. The execution role SAM creates for a function
  without `Role` (`<Function>Role`) can be referenced too (`<GetAtt TableGuardFunctionRole.Arn>`).

Only what the tests need is implemented; anything else raises `UnsupportedIntrinsic`
naming the function, so a template change never passes silently through a gap here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import yaml

PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "backup-guard",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/backup-guard/id",
    "AWS::NotificationARNs": [],
}


class UnsupportedIntrinsic(ValueError):
    """An intrinsic function or reference the resolver does not know."""


class _NoValue:
    """`AWS::NoValue`: removes the key or list item that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short-form tags."""


def _construct_short_form(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_short_form)


def load(path: str | Path) -> dict:
    """Parse a CloudFormation/SAM YAML template into plain dicts and lists."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


def parameter_defaults(template: Mapping) -> dict[str, Any]:
    """Each parameter's Default as CloudFormation passes it on: a string."""
    out = {}
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            out[name] = str(spec["Default"])
    return out


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions of one template for one set of parameter values."""

    def __init__(self, template: Mapping, overrides: Mapping[str, str] | None = None):
        self.template = template
        self.params = parameter_defaults(template)
        missing = [
            name for name in template.get("Parameters", {}) if name not in self.params
        ]
        if overrides:
            unknown = set(overrides) - set(template.get("Parameters", {}))
            if unknown:
                raise KeyError(f"overrides name unknown parameters: {sorted(unknown)}")
            self.params.update({k: str(v) for k, v in overrides.items()})
        still_missing = [name for name in missing if name not in self.params]
        if still_missing:
            raise KeyError(f"parameters without default or override: {still_missing}")
        self.resources = template.get("Resources", {})
        self.sam_roles = sam_implicit_roles(template)
        self._conditions: dict[str, bool] = {}

    # -- conditions -------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        """Value of a named condition from the template's Conditions section."""
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise UnsupportedIntrinsic(f"unknown condition {name!r}")
            self._conditions[name] = bool(self._eval_condition(conditions[name]))
        return self._conditions[name]

    def _eval_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.resolve(x) for x in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::And":
                return all(self._eval_condition(x) for x in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(x) for x in arg)
        return self.resolve(node)

    def resource_included(self, logical_id: str) -> bool:
        """Whether the resource exists for these parameters (its Condition holds)."""
        cond = self.resources[logical_id].get("Condition")
        return True if cond is None else self.condition(cond)

    # -- values -----------------------------------------------------------------------
    def ref(self, name: str) -> Any:
        """Value of `Ref name`: a parameter, a pseudo parameter or a resource placeholder."""
        if name in self.params:
            return self.params[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.resources:
            return f"<Ref {name}>"
        raise UnsupportedIntrinsic(f"Ref to unknown name {name!r}")

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match) -> str:
            var = match.group(1).strip()
            if var in variables:
                return str(self.resolve(variables[var]))
            if "." in var:
                resource, attribute = var.split(".", 1)
                if resource not in self.resources and resource not in self.sam_roles:
                    raise UnsupportedIntrinsic(f"Fn::Sub GetAtt on unknown resource {resource!r}")
                return f"<GetAtt {resource}.{attribute}>"
            value = self.ref(var)
            if isinstance(value, list):
                raise UnsupportedIntrinsic(f"Fn::Sub of list-valued {var!r}")
            return str(value)

        return _SUB_VARIABLE.sub(replace, text)

    def resolve(self, node: Any) -> Any:
        """Evaluate every intrinsic function in `node`; drop `AWS::NoValue` entries."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        out = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Fn::If":
            cond, when_true, when_false = arg
            return self.resolve(when_true if self.condition(cond) else when_false)
        if key == "Fn::Sub":
            if isinstance(arg, str):
                return self._sub(arg, {})
            text, variables = arg
            return self._sub(text, variables)
        if key == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if resource not in self.resources and resource not in self.sam_roles:
                raise UnsupportedIntrinsic(f"Fn::GetAtt on unknown resource {resource!r}")
            return f"<GetAtt {resource}.{attribute}>"
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(x) for x in self.resolve(items))
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._eval_condition({key: arg})
        raise UnsupportedIntrinsic(f"{key} is not supported by the test resolver")


def sam_implicit_roles(template: Mapping) -> dict[str, str]:
    """The execution roles the SAM transform creates: `<Function>Role` -> `<Function>`, for
    every `AWS::Serverless::Function` without its own `Role`."""
    return {
        f"{name}Role": name
        for name, res in template.get("Resources", {}).items()
        if res.get("Type") == "AWS::Serverless::Function"
        and "Role" not in res.get("Properties", {})
    }


def references(node: Any) -> set[str]:
    """Every name referenced by `Ref`, `Fn::GetAtt` or `${...}` in `Fn::Sub` inside `node`."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                for var in _SUB_VARIABLE.findall(text):
                    var = var.strip()
                    if var not in variables:
                        found.add(var.split(".", 1)[0])
                found |= references(variables)
            else:
                found |= references(value)
    return found


def function_environment(template: Mapping, logical_id: str) -> dict[str, Any]:
    """A SAM function's environment variables: Globals merged with its own (own wins)."""
    global_vars = (
        template.get("Globals", {})
        .get("Function", {})
        .get("Environment", {})
        .get("Variables", {})
    )
    own = (
        template["Resources"][logical_id]["Properties"]
        .get("Environment", {})
        .get("Variables", {})
    )
    return {**global_vars, **own}


def function_property(template: Mapping, logical_id: str, name: str) -> Any:
    """A SAM function property, falling back to Globals.Function (as SAM does)."""
    props = template["Resources"][logical_id]["Properties"]
    if name in props:
        return props[name]
    return template.get("Globals", {}).get("Function", {}).get(name)


def allowed_actions(policies: list) -> set[str]:
    """Actions of every Allow statement in a SAM function's inline policy documents."""
    actions: set[str] = set()
    for policy in policies:
        if not isinstance(policy, dict) or "Statement" not in policy:
            raise ValueError(
                f"only inline policy documents are allowed (found {policy!r}); a SAM policy "
                "template or managed policy would grant actions the IAM test cannot see"
            )
        for statement in policy["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            action = statement["Action"]
            actions |= {action} if isinstance(action, str) else set(action)
    return actions
