#!/usr/bin/env bash
# Renders the PNG and ICO app icons from resources/icons/voxdesk.svg (after editing the SVG).
# Needs rsvg-convert (apt: librsvg2-bin) and ImageMagick's convert.
set -euo pipefail
cd "$(dirname "$0")/../resources/icons"
sizes=(16 24 32 48 64 128 256 512)
for s in "${sizes[@]}"; do rsvg-convert -w "$s" -h "$s" voxdesk.svg -o "voxdesk-$s.png"; done
convert voxdesk-{16,24,32,48,64,128,256}.png voxdesk.ico
echo "Rendered ${sizes[*]} px and voxdesk.ico"
