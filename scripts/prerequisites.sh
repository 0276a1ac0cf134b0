#!/usr/bin/env bash
# What a Debian machine needs before `make run` (mode run) or `make test` (mode test), checked one need at a time.
# Missing needs stop the command at once with the apt line that installs them; as root with CI set, that line
# is run instead. Node.js is never taken from Debian when another Node.js is present (NodeSource and others
# ship their own npm, which Debian's npm package would conflict with).
set -euo pipefail

mode=${1:-test}
python=${PYTHON:-python3.11}
packages=()
notes=()

if ! command -v "$python" >/dev/null 2>&1; then
  packages+=(python3.11 python3.11-venv)
elif ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3.11-venv)
fi

if ! command -v node >/dev/null 2>&1; then
  if command -v npm >/dev/null 2>&1; then
    notes+=("npm est présent sans Node.js : réinstallez Node.js depuis la même source que npm.")
  else
    packages+=(nodejs npm)
  fi
elif ! command -v npm >/dev/null 2>&1; then
  notes+=("Node.js est présent sans npm : installez npm depuis la même source que Node.js ($(command -v node)).")
fi

# WeasyPrint draws the contract PDF with pango; harfbuzz-subset embeds the fonts it uses. The library list is
# read once: `ldconfig -p | grep -q` would fail under pipefail whenever grep stops reading early.
libraries=$(ldconfig -p 2>/dev/null || true)
for library in libpango-1.0-0:libpango-1.0.so.0 libpangoft2-1.0-0:libpangoft2-1.0.so.0 \
               libharfbuzz-subset0:libharfbuzz-subset.so.0; do
  if ! grep -qF "${library#*:}" <<<"$libraries"; then
    packages+=("${library%%:*}")
  fi
done

if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi

if [ "${#notes[@]}" -gt 0 ]; then
  printf 'Prérequis manquant : %s\n' "${notes[@]}" >&2
  exit 1
fi
[ "${#packages[@]}" -eq 0 ] && exit 0

command_line="apt-get install -y ${packages[*]}"
if [ -n "${CI:-}" ] && [ "$(id -u)" = 0 ]; then
  echo "Installation des prérequis manquants : ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $command_line -qq
  exit 0
fi

cat >&2 <<EOF
Prérequis manquants pour « make $mode » : ${packages[*]}
Installez-les avec :
    sudo $command_line
puis relancez « make $mode ».
EOF
exit 1
