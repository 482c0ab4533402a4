"""The policy keys have one source of truth (app/config/schema.py); the MSI (.wxs) and the Group Policy templates
(ADMX/ADML) must match it – names, types, bounds – and the checked-in templates must be what make_admx.py
generates now (a schema change without regenerating fails here)."""

from __future__ import annotations

import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.config.loader import _validate_policy
from app.config.schema import LIST_KEYS, POLICY_KEYS, Settings

REPO = Path(__file__).resolve().parents[3]
INSTALLER = REPO / "installer"
WXS = INSTALLER / "aktenlotse.wxs"
ADMX = INSTALLER / "admx" / "Aktenlotse.admx"
ADMLS = {lang: INSTALLER / "admx" / lang / "Aktenlotse.adml" for lang in ("de-DE", "en-US")}
WIX = "{http://schemas.microsoft.com/wix/2006/wi}"
PD = "{http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions}"
POLICY_KEY = r"Software\Policies\Aktenlotse"
MSI_REQUIRED = {"ALLOWEDROOTS": "allowed_roots", "MODELPATH": "model_path", "MODELSHA256": "model_sha256",
                "DATADIR": "data_dir", "AUDITDIR": "audit_dir", "REMOTEURL": "remote_model_url",
                "REMOTEMODEL": "remote_model_name", "REMOTECABUNDLE": "remote_ca_bundle",
                "REMOTEFALLBACK": "remote_fallback_local", "PSEUDONYMISE": "remote_pseudonymise",
                "SHAREDURL": "shared_knowledge_url", "SHAREDCOLLECTIONS": "shared_collections"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"installer_{name}", INSTALLER / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_admx = _load("make_admx")


# -- .wxs --------------------------------------------------------------------------------------------


def _wxs_policy_values() -> list[dict[str, Any]]:
    root = ET.parse(WXS).getroot()
    found = []
    for comp in root.iter(f"{WIX}Component"):
        for reg in comp.iter(f"{WIX}RegistryValue"):
            if reg.get("Root") == "HKLM" and reg.get("Key") == POLICY_KEY:
                cond = comp.find(f"{WIX}Condition")
                found.append({
                    "name": reg.get("Name"), "value": reg.get("Value"), "type": reg.get("Type"),
                    "condition": cond.text.strip() if cond is not None and cond.text else None,
                    "permanent": comp.get("Permanent"), "win64": comp.get("Win64"),
                })
    return found


def test_wxs_policy_values_are_schema_keys_fed_by_their_property() -> None:
    values = _wxs_policy_values()
    assert values, "no policy registry values in the .wxs"
    props = {p.get("Id"): p for p in ET.parse(WXS).getroot().iter(f"{WIX}Property")}
    for v in values:
        assert v["name"] in POLICY_KEYS, f"{v['name']} is not a schema key"
        prop = re.fullmatch(r"\[([A-Z0-9_]+)\]", v["value"] or "")
        assert prop, f"{v['name']}: value must be exactly [PROPERTY], got {v['value']!r}"
        assert v["condition"] == prop.group(1), f"{v['name']}: written only when {prop.group(1)} is set"
        assert v["permanent"] == "yes" and v["win64"] == "yes"
        assert props.get(prop.group(1)) is not None and props[prop.group(1)].get("Secure") == "yes"
        kind = make_admx.spec_for(v["name"]).kind
        assert v["type"] == ("integer" if kind in ("int", "bool") else "string"), f"{v['name']}: registry type"
    names = {v["name"] for v in values}
    assert len(names) == len(values), "a policy value is written twice"
    by_prop = {re.sub(r"[\[\]]", "", v["value"]): v["name"] for v in values}
    assert MSI_REQUIRED.items() <= by_prop.items()


def test_wxs_is_per_machine_x64_with_major_upgrade() -> None:
    text = re.sub(r"<!--.*?-->", "", WXS.read_text(encoding="utf-8"), flags=re.DOTALL)
    root = ET.parse(WXS).getroot()
    product = root.find(f"{WIX}Product")
    assert product is not None and product.get("Version") == "$(var.Version)"
    assert re.fullmatch(r"[0-9A-F]{8}-([0-9A-F]{4}-){3}[0-9A-F]{12}", product.get("UpgradeCode", ""))
    assert product.find(f"{WIX}Package").get("InstallScope") == "perMachine"
    major = product.find(f"{WIX}MajorUpgrade")
    assert major is not None and major.get("Schedule") == "afterInstallValidate" and major.get("DowngradeErrorMessage")
    assert 'Id="ProgramFiles64Folder"' in text
    # wixl aborts on <Condition> inside <Component>: every one must be hidden from it
    assert text.count("<Condition>") == text.count("<?ifndef var.WIXL?><Condition>")


# -- ADMX / ADML -------------------------------------------------------------------------------------


def _policies() -> dict[str, ET.Element]:
    root = ET.parse(ADMX).getroot()
    assert root.tag == f"{PD}policyDefinitions"
    return {p.get("name"): p for p in root.iter(f"{PD}policy")}


def test_admx_has_exactly_one_policy_per_schema_key() -> None:
    policies = _policies()
    assert sorted(policies) == sorted(POLICY_KEYS)
    for name, policy in policies.items():
        assert policy.get("key") == POLICY_KEY and policy.get("class") == "Machine"
        assert policy.find(f"{PD}parentCategory").get("ref") == "Aktenlotse"
        value_names = [e.get("valueName") for e in policy.iter() if e.get("valueName")]
        assert value_names == [name], f"{name}: writes {value_names}"
        assert all(v in POLICY_KEYS for v in value_names)


def _element(policy: ET.Element) -> ET.Element | None:
    elements = policy.find(f"{PD}elements")
    if elements is None:
        return None
    children = list(elements)
    assert len(children) == 1
    return children[0]


@pytest.mark.parametrize("key", POLICY_KEYS)
def test_admx_type_matches_schema(key: str) -> None:
    policy = _policies()[key]
    element = _element(policy)
    if key in LIST_KEYS:
        assert element is not None and element.tag == f"{PD}multiText"  # REG_MULTI_SZ → list in the loader
        return
    field = Settings.model_fields[key]
    annotation = make_admx._strip_optional(field.annotation)
    if annotation is bool:
        assert element is None
        assert policy.find(f"{PD}enabledValue/{PD}decimal").get("value") == "1"
        assert policy.find(f"{PD}disabledValue/{PD}decimal").get("value") == "0"
    elif annotation is int:
        assert element is not None and element.tag == f"{PD}decimal"
        ge = next(m.ge for m in field.metadata if hasattr(m, "ge"))
        le = next(m.le for m in field.metadata if hasattr(m, "le"))
        assert (int(element.get("minValue")), int(element.get("maxValue"))) == (ge, le)
        assert element.get("storeAsText") in (None, "false")  # REG_DWORD
    elif getattr(annotation, "__origin__", None) is not None and "Literal" in repr(annotation):
        assert element is not None and element.tag == f"{PD}enum"
        values = [s.text for s in element.iter(f"{PD}string")]
        assert values == list(annotation.__args__)
    else:
        assert element is not None and element.tag == f"{PD}text"
        assert element.get("expandable") in (None, "false")  # the loader does not expand %VARS%


@pytest.mark.parametrize("lang", sorted(ADMLS))
def test_every_admx_reference_resolves_in_the_adml(lang: str) -> None:
    admx_text = ADMX.read_text(encoding="utf-8")
    adml = ET.parse(ADMLS[lang]).getroot()
    assert adml.tag == f"{PD}policyDefinitionResources"
    strings = {s.get("id"): s.text for s in adml.iter(f"{PD}string")}
    presentations = {p.get("id"): p for p in adml.iter(f"{PD}presentation")}
    string_refs = set(re.findall(r"\$\(string\.([^)]+)\)", admx_text))
    presentation_refs = set(re.findall(r"\$\(presentation\.([^)]+)\)", admx_text))
    assert string_refs and presentation_refs
    assert not string_refs - set(strings), f"missing strings in {lang}"
    assert all(strings[r] and strings[r].strip() for r in string_refs)
    assert not presentation_refs - set(presentations), f"missing presentations in {lang}"
    # each presentation control points at the element of its policy
    element_ids = {e.get("id") for e in ET.parse(ADMX).getroot().iter() if e.get("id")}
    for pid, presentation in presentations.items():
        refs = [c.get("refId") for c in presentation]
        assert refs == [pid] and pid in element_ids


def test_german_adml_uses_the_schema_descriptions() -> None:
    from app.config.schema import describe

    strings = {s.get("id"): s.text for s in ET.parse(ADMLS["de-DE"]).getroot().iter(f"{PD}string")}
    for key in POLICY_KEYS:
        assert strings[f"{key}_Help"].startswith(describe(key))


def test_checked_in_templates_are_what_make_admx_generates() -> None:
    for path, text in make_admx.outputs().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(REPO)} is out of date: run .venv/bin/python installer/make_admx.py"
        )


def test_values_as_group_policy_writes_them_pass_the_loader() -> None:
    """REG_MULTI_SZ lists, REG_DWORD ints and 1/0 bools, enum strings: what the templates write is valid policy."""
    values: dict[str, Any] = {}
    for key in POLICY_KEYS:
        spec = make_admx.spec_for(key)
        if spec.kind == "list":
            values[key] = ["language"] if key == "locked" else ["D:\\Akten", "\\\\server\\share"]
        elif spec.kind == "int":
            values[key] = spec.maximum
        elif spec.kind == "bool":
            values[key] = 1
        elif spec.kind == "enum":
            values[key] = spec.choices[-1]
        elif key == "model_sha256":
            values[key] = "a" * 64
        else:
            values[key] = "C:\\Program Files\\x"
    _settings, locked = _validate_policy(values, "test")
    assert locked == set(Settings.model_fields)
    lows = {k: make_admx.spec_for(k).minimum for k in POLICY_KEYS if make_admx.spec_for(k).kind == "int"}
    bools = {k: 0 for k in POLICY_KEYS if make_admx.spec_for(k).kind == "bool"}
    _validate_policy({**lows, **bools}, "test")
