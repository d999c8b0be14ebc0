/* simboard: run an ATmega328P firmware under simavr with UART0 on a pty.
 *
 *   simboard FIRMWARE.elf [--fast] [--bootloader BOOT.hex] [--auto-reset] [--strict-baud]
 *                         [--speed 1.0] [--instance-id HEX] [--mcu atmega328p] [--freq 16000000]
 *
 * --bootloader loads an Intel HEX bootloader (e.g. optiboot) at its address and
 * starts there at every reset, like a programmed BOOTRST fuse. A `reset` sets
 * MCUSR.EXTRF (the reset button), so the bootloader waits for avrdude. With a
 * bootloader, an MCU that crashes (say, a half-written application) is reset
 * instead of stopping the simulator, as a real board stays reachable.
 * --auto-reset resets the MCU every time a program opens the pty, like the
 * capacitor on an UNO's DTR line (avrdude and pyserial rely on it).
 * --strict-baud garbles every byte from the host while the pty's baud rate
 * (what the host set with tcsetattr) differs by more than 3% from the
 * MCU's UART (UBRR0, U2X0), as a real wire would: a bootloader at 57600
 * then does not answer avrdude at 115200.
 * --speed F runs real-time mode in slow motion (F < 1): the MCU's timeouts (a
 * bootloader's ~1 s) then stretch for a host that is short of CPU.
 * --instance-id puts a board id in EEPROM (the firmware otherwise makes one
 * from its first boot, which is the same on every simulated board).
 *
 * stdout, one line each:
 *   PTY <path>              the pty to open (printed once, first)
 *   O <us> <pin> <value>    an Arduino pin's output changed: 0..255 (PWM duty or
 *                           0/255 for a digital output), -1 when it is an input
 *   E <us> <pin> <0|1>      an edge on a pin named by `watch` (exact timing)
 *   R <us>                  the MCU was reset (command or hardware watchdog)
 *   N <us>                  the answer to `now`
 * stdin, one command a line:
 *   now | reset | quit | watch PIN | pin PIN 0|1 | adc CH MILLIVOLTS
 *   sonar TRIG ECHO METRES | sonar off | pulse PIN COUNT PERIOD_US
 *   imu ADDR GX GY GZ (an MPU-6050 at ADDR turning at these deg/s) | imu off
 * <us> is simulated time in microseconds. Real-time mode (the default) keeps
 * simulated time in step with the wall clock; --fast runs as fast as it can.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_eeprom.h"
#include "avr_extint.h"
#include "avr_ioport.h"
#include "avr_twi.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_cycle_timers.h"
#include "sim_elf.h"
#include "sim_hex.h"
#include "sim_time.h"
#include "uart_pty.h"

#define PINS 20

static avr_t *avr;
static uart_pty_t uart;
static int last_out[PINS];
static int watched[PINS];
static avr_irq_t *pin_irq[PINS];
static int sonar_trig = -1, sonar_echo = -1;
static uint32_t sonar_width_us;
static int pulse_pin = -1, pulse_left;
static uint32_t pulse_half_us;
static int quit;
static int debug;
static avr_irq_t *uart_in; /* the MCU's UART receiver */

static unsigned long long sim_us(void) { return avr->cycle * 1000000ULL / avr->frequency; }

static char port_of(int pin) { return pin < 8 ? 'D' : pin < 14 ? 'B' : 'C'; }
static int bit_of(int pin) { return pin < 8 ? pin : pin < 14 ? pin - 8 : pin - 14; }

/* PWM: (Arduino pin, TCCRnA address, COM bit, OCR address) */
static const struct { int pin, tccr, com_bit, ocr; } PWM[] = {
    {3, 0xB0, 5, 0xB4}, {5, 0x44, 5, 0x48}, {6, 0x44, 7, 0x47},
    {9, 0x80, 7, 0x88}, {10, 0x80, 5, 0x8A}, {11, 0xB0, 7, 0xB3},
};

static int output_of(int pin) {
  int port = pin < 8 ? 0x2B : pin < 14 ? 0x25 : 0x28; /* PORTx; DDRx is one below */
  int bit = bit_of(pin);
  if (!(avr->data[port - 1] & (1 << bit))) return -1;
  for (unsigned i = 0; i < sizeof PWM / sizeof PWM[0]; i++)
    if (PWM[i].pin == pin && (avr->data[PWM[i].tccr] & (1 << PWM[i].com_bit)))
      return avr->data[PWM[i].ocr];
  return (avr->data[port] & (1 << bit)) ? 255 : 0;
}

static void sample(void) {
  for (int pin = 2; pin < PINS; pin++) {
    int v = output_of(pin);
    if (v != last_out[pin]) {
      last_out[pin] = v;
      printf("O %llu %d %d\n", sim_us(), pin, v);
    }
  }
}

/* Drive an input pin from outside. simavr re-applies a pin's pull-up on every
 * write to its PORT register unless the pin is declared externally driven, so
 * declare it (mask) with the level we drive (value): otherwise a digitalWrite
 * to a neighbour pin would glitch our level and fake an edge. */
static uint8_t ext_mask[3], ext_value[3];
static void drive(int pin, int level) {
  int port = port_of(pin) - 'B', bit = bit_of(pin);
  ext_mask[port] |= 1 << bit;
  if (level) ext_value[port] |= 1 << bit;
  else ext_value[port] &= ~(1 << bit);
  avr_ioport_external_t ext = {.name = port_of(pin), .mask = ext_mask[port], .value = ext_value[port]};
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port_of(pin)), &ext);
  avr_raise_irq(pin_irq[pin], level ? 1 : 0);
}

/* An MPU-6050 on the I2C bus (after `imu ADDR GX GY GZ`): a register file
 * with a pointer; the gyro registers hold the rates set by the command. */
static struct {
  int present;
  uint8_t addr8; /* 7-bit address << 1 */
  uint8_t reg[128];
  uint8_t ptr;
  int selected, first_write;
} mpu;

static void mpu_set_rate(int axis, double dps) {
  double raw = dps * 131.0;
  int16_t v = raw > 32767 ? 32767 : raw < -32768 ? -32768 : (int16_t)raw;
  mpu.reg[0x43 + 2 * axis] = (uint8_t)((uint16_t)v >> 8);
  mpu.reg[0x44 + 2 * axis] = (uint8_t)v;
}

static void twi_reply(uint8_t msg, uint8_t data) {
  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_INPUT),
                avr_twi_irq_msg(msg, mpu.selected, data));
}

static void on_twi(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  avr_twi_msg_irq_t v;
  v.u.v = value;
  if (v.u.twi.msg & TWI_COND_STOP) mpu.selected = 0;
  if (v.u.twi.msg & TWI_COND_START) {
    mpu.selected = 0;
    if (mpu.present && (v.u.twi.addr & 0xFE) == mpu.addr8) {
      mpu.selected = v.u.twi.addr;
      mpu.first_write = 1;
      twi_reply(TWI_COND_ACK, 1);
    }
  }
  if (!mpu.selected) return;
  if (v.u.twi.msg & TWI_COND_WRITE) {
    twi_reply(TWI_COND_ACK, 1);
    if (mpu.first_write) mpu.ptr = v.u.twi.data & 0x7F;
    else mpu.reg[mpu.ptr++ & 0x7F] = v.u.twi.data;
    mpu.first_write = 0;
  }
  if (v.u.twi.msg & TWI_COND_READ) twi_reply(TWI_COND_READ, mpu.reg[mpu.ptr++ & 0x7F]);
}

static avr_cycle_count_t echo_high(avr_t *a, avr_cycle_count_t when, void *param);
static avr_cycle_count_t echo_low(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)when;
  (void)param;
  if (sonar_echo >= 0) drive(sonar_echo, 0);
  return 0;
}
static avr_cycle_count_t echo_high(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)when;
  (void)param;
  if (sonar_echo < 0) return 0;
  drive(sonar_echo, 1);
  avr_cycle_timer_register_usec(avr, sonar_width_us, echo_low, NULL);
  return 0;
}

static avr_cycle_count_t pulse(avr_t *a, avr_cycle_count_t when, void *param) {
  (void)a;
  (void)param;
  if (pulse_pin < 0 || pulse_left <= 0) return 0;
  int level = pulse_left & 1;
  drive(pulse_pin, level);
  pulse_left--;
  return pulse_left ? when + avr_usec_to_cycles(avr, pulse_half_us) : 0;
}

static void on_pin(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  int pin = (int)(intptr_t)param;
  if (watched[pin]) printf("E %llu %d %u\n", sim_us(), pin, value ? 1 : 0);
  if (pin == sonar_trig && value == 0 && sonar_echo >= 0 && sonar_width_us)
    avr_cycle_timer_register_usec(avr, 200, echo_high, NULL); /* HC-SR04: ~200 us to the burst */
}

/* simavr 1.6 (Debian's) checks a low INT0/INT1 pin on every simulated cycle
 * while "strict" level triggering is on (upstream issue #465): a low D2 or D3
 * (an encoder at rest, a pin the host made an output) slowed the board from
 * ~3x to below real time. Non-strict level triggering fires once per low
 * level instead; our firmware uses edges only (encoders count RISING). simavr
 * turns strict mode back on at every reset, so this runs after each one. */
static void lenient_level_trigger(void) {
  avr_extint_set_strict_lvl_trig(avr, 0, 0);
  avr_extint_set_strict_lvl_trig(avr, 1, 0);
}

/* uart_pty hands the MCU's bytes to the pty from a thread of its own, through
 * a 512-byte fifo that drops what does not fit: 44 ms of 115200 baud. A real
 * port buffers far more (Linux keeps up to 64 KiB per tty before it drops:
 * over 5 s at 115200), but a pty only a few KiB, and on a busy machine that
 * thread or the host's reader can wait longer than that for a core while the
 * MCU runs on: telemetry at the wire's limit then lost bytes no real board
 * would. So while the fifo is half full the MCU waits (simulated time slips
 * behind the wall clock, as whenever the machine is busy), for at most 5 s
 * in a row: a host that reads nothing for longer loses bytes, as on a real port. */
static int pty_backlog(void) {
  uart_pty_port_t *pty = &uart.pty;
  unsigned size = uart_pty_fifo_fifo_size;
  /* uart_pty's `in` fifo holds what the MCU sent (its `out`, what the host sent) */
  unsigned pending = ((unsigned)pty->in.write + size - pty->in.read) & (size - 1);
  return pending >= size / 2;
}

/* The reset pin: what the button and an UNO's DTR auto-reset do. */
static void external_reset(void) {
  /* What the host sent before the reset is gone on a real board (the UART lost it);
   * uart_pty would keep it queued and hand it to the bootloader as garbage. */
  tcflush(uart.port[0].s, TCIFLUSH);
  uart.pty.in.read = uart.pty.in.write; /* drained, as its consumer would */
  avr_reset(avr);
  lenient_level_trigger();
  avr->data[0x54] |= 1 << 1; /* MCUSR.EXTRF, so a bootloader waits for avrdude */
  printf("R %llu\n", sim_us());
  if (debug) fprintf(stderr, "simboard: reset at %llu us, pc 0x%x\n", sim_us(), avr->pc);
}

/* The MCU's UART baud rate from UBRR0 and U2X0 (0 while the UART is off). */
static unsigned long mcu_baud(void) {
  unsigned ubrr = avr->data[0xC4] | ((avr->data[0xC5] & 0x0F) << 8);
  if (!(avr->data[0xC1] & (1 << 4))) return 0; /* RXEN0 */
  return avr->frequency / ((avr->data[0xC0] & (1 << 1) ? 8UL : 16UL) * (ubrr + 1));
}

static unsigned long host_baud(void) {
  static const struct { speed_t code; unsigned long baud; } SPEEDS[] = {
      {B9600, 9600}, {B19200, 19200}, {B38400, 38400}, {B57600, 57600},
      {B115200, 115200}, {B230400, 230400}, {B460800, 460800}, {B1000000, 1000000},
  };
  struct termios t;
  if (tcgetattr(uart.port[0].s, &t) != 0) return 0;
  speed_t code = cfgetispeed(&t);
  for (unsigned i = 0; i < sizeof SPEEDS / sizeof SPEEDS[0]; i++)
    if (SPEEDS[i].code == code) return SPEEDS[i].baud;
  return 0;
}

/* A byte from the host on its way to the MCU (--strict-baud sits here). */
static void on_host_byte(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  unsigned long mcu = mcu_baud(), host = host_baud();
  if (mcu && host && (host * 100 > mcu * 103 || host * 103 < mcu * 100)) {
    if (debug) fprintf(stderr, "simboard: host at %lu baud, MCU at %lu: garbled\n", host, mcu);
    value = host > mcu ? 0x00 : 0xFF; /* too fast: a run of zeros; too slow: noise */
    value ^= 0x5A & (uint32_t)avr->cycle;
  }
  avr_raise_irq(uart_in, value);
}

static void command(char *line) {
  int a = 0, b = 0, c = 0;
  double m = 0, gx = 0, gy = 0, gz = 0;
  if (!strcmp(line, "quit")) {
    quit = 1;
  } else if (!strcmp(line, "now")) {
    printf("N %llu\n", sim_us());
  } else if (!strcmp(line, "reset")) {
    external_reset();
  } else if (sscanf(line, "watch %d", &a) == 1 && a >= 0 && a < PINS) {
    watched[a] = 1;
  } else if (sscanf(line, "pin %d %d", &a, &b) == 2 && a >= 0 && a < PINS) {
    drive(a, b);
  } else if (sscanf(line, "adc %d %d", &a, &b) == 2 && a >= 0 && a < 8) {
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + a), (uint32_t)b);
  } else if (!strcmp(line, "imu off")) {
    mpu.present = 0;
  } else if (sscanf(line, "imu %d %lf %lf %lf", &a, &gx, &gy, &gz) == 4 && a > 0 && a < 128) {
    mpu.present = 1;
    mpu.addr8 = (uint8_t)(a << 1);
    mpu.reg[0x75] = 0x68; /* WHO_AM_I */
    mpu_set_rate(0, gx);
    mpu_set_rate(1, gy);
    mpu_set_rate(2, gz);
  } else if (!strcmp(line, "sonar off")) {
    sonar_trig = sonar_echo = -1;
  } else if (sscanf(line, "sonar %d %d %lf", &a, &b, &m) == 3 && a >= 0 && a < PINS && b >= 0 &&
             b < PINS) {
    sonar_trig = a;
    sonar_echo = b;
    sonar_width_us = (uint32_t)(m * 2.0 / 343.0 * 1e6);
  } else if (sscanf(line, "pulse %d %d %d", &a, &b, &c) == 3 && a >= 0 && a < PINS && c > 1) {
    pulse_pin = a;
    pulse_left = 2 * b;
    pulse_half_us = (uint32_t)c / 2;
    drive(a, 0);
    avr_cycle_timer_register_usec(avr, pulse_half_us, pulse, NULL);
  } else {
    fprintf(stderr, "simboard: unknown command: %s\n", line);
  }
  fflush(stdout);
}

static void poll_stdin(void) {
  static char buf[256];
  static size_t len;
  ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
  if (n == 0) quit = 1; /* our parent went away */
  if (n <= 0) return;
  len += (size_t)n;
  buf[len] = 0;
  char *start = buf, *nl;
  while ((nl = strchr(start, '\n'))) {
    *nl = 0;
    command(start);
    start = nl + 1;
  }
  len = strlen(start);
  memmove(buf, start, len);
  if (len == sizeof buf - 1) len = 0;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  const char *path = NULL, *mcu = "atmega328p", *boot = NULL;
  unsigned long freq = 16000000;
  int realtime = 1, auto_reset = 0, strict_baud = 0;
  double speed = 1.0; /* simulated seconds per wall-clock second in real-time mode */
  unsigned long instance = 0; /* --instance-id: the board's id in EEPROM (0: blank EEPROM) */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--fast")) realtime = 0;
    else if (!strcmp(argv[i], "--auto-reset")) auto_reset = 1;
    else if (!strcmp(argv[i], "--strict-baud")) strict_baud = 1;
    else if (!strcmp(argv[i], "--speed") && i + 1 < argc) speed = atof(argv[++i]);
    else if (!strcmp(argv[i], "--instance-id") && i + 1 < argc) instance = strtoul(argv[++i], NULL, 16);
    else if (!strcmp(argv[i], "--mcu") && i + 1 < argc) mcu = argv[++i];
    else if (!strcmp(argv[i], "--bootloader") && i + 1 < argc) boot = argv[++i];
    else if (!strcmp(argv[i], "--freq") && i + 1 < argc) freq = strtoul(argv[++i], NULL, 10);
    else path = argv[i];
  }
  if (!path) {
    fprintf(stderr, "usage: simboard FIRMWARE.elf [--fast] [--bootloader HEX] [--auto-reset] "
                    "[--strict-baud] [--speed F] [--mcu NAME] [--freq HZ]\n");
    return 2;
  }
  elf_firmware_t fw;
  memset(&fw, 0, sizeof fw);
  if (elf_read_firmware(path, &fw) != 0) {
    fprintf(stderr, "simboard: cannot read %s\n", path);
    return 1;
  }
  avr = avr_make_mcu_by_name(mcu);
  if (!avr) {
    fprintf(stderr, "simboard: unknown MCU %s\n", mcu);
    return 1;
  }
  avr_init(avr);
  lenient_level_trigger();
  avr->log = getenv("SIMBOARD_LOG") ? atoi(getenv("SIMBOARD_LOG")) : LOG_ERROR;
  debug = avr->log > LOG_ERROR;
  avr_load_firmware(avr, &fw);
  avr->frequency = freq;
  if (boot) {
    ihex_chunk_p chunks = NULL;
    int n = read_ihex_chunks(boot, &chunks);
    if (n <= 0) {
      fprintf(stderr, "simboard: cannot read bootloader %s\n", boot);
      return 1;
    }
    for (int i = 0; i < n; i++) {
      if (chunks[i].baseaddr + chunks[i].size > avr->flashend + 1U) {
        /* Debian's optiboot_atmega328.hex (gcc-avr 5) is 532 bytes and runs past 32 KiB */
        fprintf(stderr, "simboard: %s does not fit the flash: 0x%x..0x%x, flash ends at 0x%x\n",
                boot, chunks[i].baseaddr, chunks[i].baseaddr + chunks[i].size - 1, avr->flashend);
        return 1;
      }
      memcpy(avr->flash + chunks[i].baseaddr, chunks[i].data, chunks[i].size);
    }
    avr->codeend = avr->flashend; /* simavr stops at the end of the ELF's code otherwise */
    avr->reset_pc = chunks[0].baseaddr; /* BOOTRST fuse programmed */
    avr->pc = avr->reset_pc;
    free_ihex_chunks(chunks);
  }
  avr->avcc = avr->aref = 5000; /* millivolts, for the ADC */
  if (instance) { /* a board that has been used before: its instance id at EEPROM 0 (u32 LE) */
    uint8_t id[4] = {instance & 0xFF, (instance >> 8) & 0xFF, (instance >> 16) & 0xFF, instance >> 24};
    avr_eeprom_desc_t ee = {.ee = id, .offset = 0, .size = 4};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &ee);
  }
  /* keep our stdout for the line protocol: uart_pty prints chatter there */
  fflush(stdout);
  int saved = dup(1);
  dup2(2, 1);
  uart_pty_init(avr, &uart);
  uart_pty_connect(&uart, '0');
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("PTY %s\n", uart.port[0].slavename);
  if (strict_baud) { /* host -> MCU through on_host_byte instead of straight in */
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_unconnect_irq(uart.irq + IRQ_UART_PTY_BYTE_OUT, uart_in);
    avr_irq_register_notify(uart.irq + IRQ_UART_PTY_BYTE_OUT, on_host_byte, NULL);
  }
  int opens = -1; /* inotify: someone opened the pty */
  if (auto_reset) {
    opens = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (opens < 0 || inotify_add_watch(opens, uart.port[0].slavename, IN_OPEN) < 0) {
      fprintf(stderr, "simboard: cannot watch %s for --auto-reset\n", uart.port[0].slavename);
      return 1;
    }
  }

  for (int pin = 0; pin < PINS; pin++) {
    last_out[pin] = -2;
    pin_irq[pin] = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port_of(pin)), bit_of(pin));
    avr_irq_register_notify(pin_irq[pin], on_pin, (void *)(intptr_t)pin);
  }
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_OUTPUT), on_twi, NULL);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);

  long long wall0 = now_ns(), last_poll = wall0;
  avr_cycle_count_t cyc0 = avr->cycle;
  while (!quit) {
    for (int i = 0; i < 256; i++) {
      int state = avr_run(avr);
      if (avr->pc == avr->reset_pc) { /* a reset or the watchdog */
        lenient_level_trigger();
        printf("R %llu\n", sim_us());
      }
      if (state == cpu_Crashed && boot) {
        /* e.g. a half-written application the bootloader gave up on: a real MCU would
         * run wild until something resets it; simavr stops. Reset it (as the watchdog
         * would) so the bootloader can be reached again, as on a real board. */
        fprintf(stderr, "simboard: the MCU crashed at pc 0x%x: reset\n", avr->pc);
        avr_reset(avr);
        lenient_level_trigger();
        avr->state = cpu_Running;
        avr->data[0x54] |= 1 << 3; /* MCUSR.WDRF */
        printf("R %llu\n", sim_us());
        continue;
      }
      if (state == cpu_Done || state == cpu_Crashed) {
        fprintf(stderr, "simboard: the MCU stopped (state %d, pc 0x%x)\n", state, avr->pc);
        quit = 2;
        break;
      }
    }
    if (pty_backlog()) {
      long long waited_from = now_ns();
      while (pty_backlog() && !quit && now_ns() - waited_from < 5000000000LL) {
        struct timespec t = {0, 100000};
        nanosleep(&t, NULL);
        poll_stdin(); /* `now` and `quit` still answered */
      }
      if (pty_backlog()) fprintf(stderr, "simboard: the host read nothing for 5 s: bytes lost\n");
    }
    long long wall = now_ns();
    sample(); /* pin outputs, every ~256 instructions (~20 us) */
    if (avr->cycle < cyc0) { /* in case a reset restarts the cycle count */
      cyc0 = avr->cycle;
      wall0 = wall;
    }
    if (realtime) {
      long long sim_ns = (long long)((avr->cycle - cyc0) * 1000000000ULL / avr->frequency);
      long long ahead = sim_ns - (long long)((double)(wall - wall0) * speed);
      if (ahead > 200000) {
        struct timespec t = {0, (long)ahead};
        nanosleep(&t, NULL);
      } else if (ahead < -50000000LL) { /* more than 50 ms behind: do not race to catch up */
        cyc0 = avr->cycle;
        wall0 = wall;
      }
    }
    if (wall - last_poll > 1000000) {
      last_poll = wall;
      poll_stdin();
      char events[512];
      if (opens >= 0 && read(opens, events, sizeof events) > 0) external_reset();
    }
  }
  uart_pty_stop(&uart);
  avr_terminate(avr);
  return quit == 2 ? 1 : 0;
}
