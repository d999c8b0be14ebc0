#!/usr/bin/env bash
# Install the Debian packages the integration tests and the demo need.
# As root (or with passwordless sudo) it installs what is missing; otherwise
# it names exactly what is missing. With CI=true a missing part is an error;
# without it, the tests that need the part skip and say why.
set -euo pipefail

PACKAGES=(
  mosquitto          # the classroom MQTT broker (integration tests)
  simavr             # runs the reference firmware
  libsimavr-dev      # builds the simavr harness
  libsimavrparts1    # uart_pty for the harness
  gcc-avr            # compiles the firmware
  avr-libc
  arduino-core-avr   # the Arduino core the firmware is written against
  avrdude            # flashes AVR boards
  bubblewrap         # the sandbox every untrusted program runs in
  chromium           # the teacher console's browser tests
  fonts-wqy-microhei # Chinese text in the console screenshots (Chromium has no CJK font of its own)
  mmdebstrap         # the emulated robot's root file system (Debian bookworm arm64)
  qemu-user-static   # runs the emulated robot's aarch64 programs
  binfmt-support     # registers qemu's aarch64 handler with the kernel
  arch-test          # lets mmdebstrap check that aarch64 programs run
  postgresql         # the district's store and the console's store on PostgreSQL (tests start their own server)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# The emulated robot (tests/integration/test_robot_image.py): the kernel must run
# aarch64 programs through qemu. binfmt_misc may be unmounted in a container or VM.
binfmt() {
  local handler=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [ -f "$handler" ] && grep -q '^enabled' "$handler" && return 0
  [ "$(id -u)" -eq 0 ] || return 1
  [ -e /proc/sys/fs/binfmt_misc/register ] \
    || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  command -v update-binfmts >/dev/null && update-binfmts --enable qemu-aarch64 2>/dev/null || true
  [ -f "$handler" ] && grep -q '^enabled' "$handler"
}

check_binfmt() {
  if binfmt; then
    echo "system-deps: aarch64 programs run through qemu (binfmt)"
  elif [ "${CI:-}" = "true" ]; then
    echo "system-deps: the aarch64 binfmt handler is not registered (as root: update-binfmts --enable qemu-aarch64)" >&2
    echo "system-deps: CI=true, so a missing system part is a failure" >&2
    exit 1
  else
    echo "system-deps: the aarch64 binfmt handler is not registered: the emulated robot's test will be skipped"
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all ${#PACKAGES[@]} Debian packages present"
  check_binfmt
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "system-deps: missing Debian packages: ${missing[*]}"
  echo "system-deps: install them with: sudo apt-get install ${missing[*]}"
  if [ "${CI:-}" = "true" ]; then
    echo "system-deps: CI=true, so a missing system part is a failure" >&2
    exit 1
  fi
  echo "system-deps: the tests that need them will be skipped"
  exit 0
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
check_binfmt
