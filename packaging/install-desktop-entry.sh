#!/usr/bin/env bash
# Adds VoxDesk to the desktop's application menu for the current user (Linux): the .desktop
# file, the AppStream metadata and the icons, under $XDG_DATA_HOME (~/.local/share).
#   packaging/install-desktop-entry.sh [VOXDESK_COMMAND]   # default: .venv/bin/voxdesk, else
#                                                          # bundle/voxdesk, else `voxdesk`
#   packaging/install-desktop-entry.sh --uninstall
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app_id=io.github.voxdesk.VoxDesk
data=${XDG_DATA_HOME:-$HOME/.local/share}
icons=$data/icons/hicolor

if [[ "${1:-}" == "--uninstall" ]]; then
  rm -f "$data/applications/$app_id.desktop" "$data/metainfo/$app_id.metainfo.xml"
  rm -f "$icons"/*/apps/"$app_id".png "$icons/scalable/apps/$app_id.svg"
  echo "Removed VoxDesk from the application menu."
  exit 0
fi

command=${1:-}
if [[ -z "$command" ]]; then
  for candidate in "$root/.venv/bin/voxdesk" "$root/bundle/voxdesk/voxdesk" "$root/dist/voxdesk/voxdesk"; do
    [[ -x "$candidate" ]] && { command=$candidate; break; }
  done
fi
command=${command:-voxdesk}

mkdir -p "$data/applications" "$data/metainfo" "$icons/scalable/apps"
# Exec must name the program itself: a virtual environment's is not on the menu's PATH.
sed "s|^Exec=.*|Exec=\"$command\"|" "$root/packaging/$app_id.desktop" > "$data/applications/$app_id.desktop"
cp "$root/packaging/$app_id.metainfo.xml" "$data/metainfo/"
cp "$root/resources/icons/voxdesk.svg" "$icons/scalable/apps/$app_id.svg"
for png in "$root"/resources/icons/voxdesk-*.png; do
  size=$(basename "$png" .png); size=${size#voxdesk-}
  mkdir -p "$icons/${size}x${size}/apps"
  cp "$png" "$icons/${size}x${size}/apps/$app_id.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
echo "VoxDesk is in the application menu (runs $command)."
