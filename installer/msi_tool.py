"""Helpers for installer/build_msi.sh: read the policy wiring from aktenlotse.wxs, patch and check a wixl-built MSI.

    python3 installer/msi_tool.py policy  WXS            # PROPERTY<TAB>value name<TAB>type, one line per policy value
    python3 installer/msi_tool.py fixup   WXS MSI        # apply what wixl 0.101 ignores (via msibuild)
    python3 installer/msi_tool.py check   WXS MSI VERSION [--expect-exe]   # verify the MSI (via msiinfo)

wixl 0.101 (Debian msitools) silently drops three WiX v3 features the .wxs relies on:
  * <Condition> inside <Component> (it even aborts on it, so the .wxs hides it from wixl with <?ifndef var.WIXL?>),
  * Component/@Permanent,
  * Property/@Secure.
`fixup` writes them into the built MSI with SQL (msibuild -q), taking them from the .wxs itself, so the .wxs
stays the single source and candle/light on Windows read the same attributes natively.

Standard library only (runs with any python3 ≥ 3.9).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

WIX_NS = "{http://schemas.microsoft.com/wix/2006/wi}"
POLICY_KEY = r"Software\Policies\Aktenlotse"
REQUIRED_POLICY_VALUES = ("allowed_roots", "model_path", "model_sha256", "data_dir", "audit_dir")
PERMANENT = 0x10
WIN64 = 0x100
MSIDB_UPGRADE_ONLY_DETECT = 0x2


@dataclass(frozen=True)
class PolicyValue:
    component: str
    prop: str  # the MSI property, e.g. ALLOWEDROOTS
    name: str  # the registry value name = schema key, e.g. allowed_roots
    type: str  # WiX RegistryValue/@Type: string | integer
    condition: str | None
    permanent: bool


def _parse_wxs(wxs: Path) -> ET.Element:
    # ElementTree drops the <?ifndef?> processing instructions, so the Condition children are visible here.
    return ET.parse(wxs).getroot()


def policy_values(wxs: Path) -> list[PolicyValue]:
    """Every RegistryValue under HKLM\\Software\\Policies\\Aktenlotse with its component and property."""
    result = []
    for comp in _parse_wxs(wxs).iter(f"{WIX_NS}Component"):
        for reg in comp.iter(f"{WIX_NS}RegistryValue"):
            if reg.get("Root") != "HKLM" or reg.get("Key") != POLICY_KEY:
                continue
            value = reg.get("Value", "")
            if not (value.startswith("[") and value.endswith("]")):
                raise SystemExit(f"{wxs}: policy value {reg.get('Name')} must be exactly [PROPERTY], got {value!r}")
            cond = comp.find(f"{WIX_NS}Condition")
            result.append(
                PolicyValue(
                    component=comp.get("Id", ""),
                    prop=value[1:-1],
                    name=reg.get("Name", ""),
                    type=reg.get("Type", "string"),
                    condition=(cond.text or "").strip() if cond is not None else None,
                    permanent=comp.get("Permanent") == "yes",
                )
            )
    return result


def secure_properties(wxs: Path) -> list[str]:
    return [p.get("Id", "") for p in _parse_wxs(wxs).iter(f"{WIX_NS}Property") if p.get("Secure") == "yes"]


# -- msiinfo / msibuild ----------------------------------------------------------------------


def export(msi: Path, table: str) -> list[dict[str, str]]:
    """Rows of an MSI table as dicts (msiinfo export: header, types, table name/keys, then rows)."""
    out = subprocess.run(["msiinfo", "export", str(msi), table], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    if len(lines) < 3:
        return []
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[3:] if line]


def tables(msi: Path) -> set[str]:
    out = subprocess.run(["msiinfo", "tables", str(msi)], check=True, capture_output=True, text=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def _sql(msi: Path, query: str) -> None:
    subprocess.run(["msibuild", str(msi), "-q", query], check=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fixup(wxs: Path, msi: Path) -> None:
    components = {row["Component"]: row for row in export(msi, "Component")}
    for pv in policy_values(wxs):
        row = components.get(pv.component)
        if row is None:
            raise SystemExit(f"fixup: component {pv.component} is not in {msi}")
        attributes = int(row["Attributes"]) | (PERMANENT if pv.permanent else 0)
        assignments = [f"`Attributes` = {attributes}"]
        if pv.condition:
            assignments.append(f"`Condition` = {_quote(pv.condition)}")
        _sql(msi, f"UPDATE `Component` SET {', '.join(assignments)} WHERE `Component` = {_quote(pv.component)}")
        print(f"  fixup: component {pv.component}: Condition={pv.condition!r}, Attributes={attributes}")
    secure = secure_properties(wxs)
    if secure:
        props = {row["Property"]: row["Value"] for row in export(msi, "Property")}
        current = [p for p in props.get("SecureCustomProperties", "").split(";") if p]
        merged = ";".join(current + [p for p in secure if p not in current])
        if "SecureCustomProperties" in props:
            _sql(msi, f"UPDATE `Property` SET `Value` = {_quote(merged)} WHERE `Property` = 'SecureCustomProperties'")
        else:
            _sql(msi, f"INSERT INTO `Property` (`Property`, `Value`) VALUES ('SecureCustomProperties', {_quote(merged)})")
        print(f"  fixup: SecureCustomProperties={merged}")


# -- checks ----------------------------------------------------------------------------------


class Checker:
    def __init__(self) -> None:
        self.failures = 0

    def __call__(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}")
        if not ok:
            self.failures += 1


def _wxs_upgrade_code(wxs: Path) -> str:
    product = _parse_wxs(wxs).find(f"{WIX_NS}Product")
    return "{" + (product.get("UpgradeCode", "") if product is not None else "").upper() + "}"


def check(wxs: Path, msi: Path, version: str, expect_exe: bool) -> int:
    ok = Checker()
    present = tables(msi)
    print(f"msiinfo tables: {' '.join(sorted(present))}")
    for table in ("Component", "File", "Registry", "Shortcut", "Upgrade", "LaunchCondition", "InstallExecuteSequence"):
        ok(table in present, f"table {table} present")

    props = {row["Property"]: row["Value"] for row in export(msi, "Property")}
    ok(props.get("ALLUSERS") == "1", "per-machine: Property ALLUSERS=1")
    ok(props.get("ProductVersion") == version, f"ProductVersion={version} (got {props.get('ProductVersion')})")
    ok(props.get("UpgradeCode", "").upper() == _wxs_upgrade_code(wxs), f"UpgradeCode={_wxs_upgrade_code(wxs)}")

    suminfo = subprocess.run(["msiinfo", "suminfo", str(msi)], check=True, capture_output=True, text=True).stdout
    template = next((line.split(":", 1)[1].strip() for line in suminfo.splitlines() if line.startswith("Template:")), "")
    ok(template.startswith("x64;"), f"64-bit package (summary Template {template!r})")

    dirs = {row["Directory"]: row for row in export(msi, "Directory")}
    ok(dirs.get("INSTALLDIR", {}).get("Directory_Parent") == "ProgramFiles64Folder", "INSTALLDIR below ProgramFiles64Folder")

    # -- policy registry rows
    wanted = policy_values(wxs)
    names = {pv.name for pv in wanted}
    for name in REQUIRED_POLICY_VALUES:
        ok(name in names, f".wxs writes policy value {name}")
    registry = export(msi, "Registry")
    components = {row["Component"]: row for row in export(msi, "Component")}
    secure = set(props.get("SecureCustomProperties", "").split(";"))
    for pv in wanted:
        expected_value = ("#" if pv.type == "integer" else "") + f"[{pv.prop}]"
        rows = [r for r in registry if r["Name"] == pv.name and r["Key"] == POLICY_KEY]
        ok(
            len(rows) == 1 and rows[0]["Root"] == "2" and rows[0]["Value"] == expected_value and rows[0]["Component_"] == pv.component,
            f"Registry row HKLM\\{POLICY_KEY}\\{pv.name} = {expected_value} (component {pv.component})",
        )
        comp = components.get(pv.component, {})
        attributes = int(comp.get("Attributes") or 0)
        ok(comp.get("Condition") == pv.prop, f"component {pv.component} condition '{pv.prop}' (written only when given)")
        ok(bool(attributes & PERMANENT), f"component {pv.component} is Permanent (kept on upgrade without a new value)")
        ok(bool(attributes & WIN64), f"component {pv.component} is 64-bit (no WOW6432Node redirection)")
        ok(pv.prop in secure, f"property {pv.prop} in SecureCustomProperties")
    extra = [r for r in registry if r["Key"] == POLICY_KEY and r["Name"] not in names]
    ok(not extra, "no policy rows beyond those in the .wxs")

    # -- shortcut
    shortcuts = export(msi, "Shortcut")
    ok(
        any(s["Directory_"] == "ProgramMenuFolder" and s["Name"].split("|")[-1] == "Aktenlotse"
            and s["Target"] == "[INSTALLDIR]aktenlotse.exe" for s in shortcuts),
        "Start-menu shortcut 'Aktenlotse' in ProgramMenuFolder → [INSTALLDIR]aktenlotse.exe",
    )
    files = export(msi, "File")
    has_exe = any(f["FileName"].split("|")[-1].lower() == "aktenlotse.exe" for f in files)
    if expect_exe:
        ok(has_exe, "File table contains aktenlotse.exe (the shortcut target)")
    else:
        print(f"  note  aktenlotse.exe {'is' if has_exe else 'is NOT'} in the payload (Linux stand-in dist?)")
    ok(not any(f["FileName"].lower().endswith(".gguf") for f in files) or _models_included(), "no *.gguf model in the payload")
    print(f"  info  {len(files)} files in the payload")

    # -- upgrades
    upgrade = export(msi, "Upgrade")
    code = _wxs_upgrade_code(wxs)
    ok(any(u["UpgradeCode"].upper() == code and u["ActionProperty"] == "WIX_UPGRADE_DETECTED"
           and u["VersionMax"] == version for u in upgrade), "Upgrade row: older versions → WIX_UPGRADE_DETECTED (removed)")
    ok(any(u["UpgradeCode"].upper() == code and u["ActionProperty"] == "WIX_DOWNGRADE_DETECTED"
           and int(u["Attributes"]) & MSIDB_UPGRADE_ONLY_DETECT for u in upgrade),
       "Upgrade row: newer versions → WIX_DOWNGRADE_DETECTED (detect only)")
    launch = export(msi, "LaunchCondition")
    ok(any(c["Condition"] == "NOT WIX_DOWNGRADE_DETECTED" and c["Description"] for c in launch),
       "LaunchCondition NOT WIX_DOWNGRADE_DETECTED with a (German) message: downgrade blocked")
    seq = {row["Action"]: int(row["Sequence"]) for row in export(msi, "InstallExecuteSequence") if row["Sequence"]}
    rep, validate, init = seq.get("RemoveExistingProducts"), seq.get("InstallValidate"), seq.get("InstallInitialize")
    ok(rep is not None and init is not None and validate is not None and validate < rep < init,
       f"InstallExecuteSequence: InstallValidate {validate} < RemoveExistingProducts {rep} < InstallInitialize {init}")
    ok(seq.get("FindRelatedProducts", 10**6) < seq.get("LaunchConditions", 0),
       "FindRelatedProducts runs before LaunchConditions (so the downgrade check sees it)")

    print(f"{'all checks passed' if not ok.failures else f'{ok.failures} check(s) FAILED'}")
    return 1 if ok.failures else 0


def _models_included() -> bool:
    return os.environ.get("AKTENLOTSE_MSI_INCLUDE_MODELS") == "1"


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "policy":
        for pv in policy_values(Path(argv[1])):
            print(f"{pv.prop}\t{pv.name}\t{pv.type}")
        return 0
    if len(argv) == 3 and argv[0] == "fixup":
        fixup(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) in (4, 5) and argv[0] == "check":
        return check(Path(argv[1]), Path(argv[2]), argv[3], expect_exe="--expect-exe" in argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
