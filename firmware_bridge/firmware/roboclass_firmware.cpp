/* RoboClass reference firmware for the ATmega328P (Arduino UNO / Nano).
 *
 * Speaks docs/serial-protocol.md at 115200 baud. Safety rules:
 *  - outputs are safe at boot: motor pins low, no servo pulses until attached;
 *  - nothing moves until the host sends ARM;
 *  - link watchdog: no valid frame for watchdog_ms (default 300) while armed
 *    -> motors stop, servos go to their safe value, outputs low, FAILSAFE set,
 *    and ARM is needed to move again;
 *  - the hardware watchdog (250 ms) is fed only at the end of a whole loop().
 * Sensor drivers never wait: the ultrasonic echo is timed by pin-change
 * interrupts, encoders count in interrupts, the ADC converts one channel while
 * the loop runs on; the I2C IMU uses Wire with a timeout.
 * Telemetry fills what the wire has left (1.2): a period down to 1 ms, at
 * most one telemetry frame in the transmit buffer, and none started while a
 * host frame is arriving, so a reply waits for no more than the frame already
 * on the wire.
 */
#include <Arduino.h>
#include <Wire.h>
#include <avr/eeprom.h>
#include <avr/wdt.h>

#include "link.h"
#include "protocol.h"
#include "servo.h"

#ifndef RC_FW_MAJOR
#define RC_FW_MAJOR 1
#define RC_FW_MINOR 2
#define RC_FW_PATCH 0
#endif

static const uint32_t BAUD = 115200;
static const uint8_t MOTOR_PWM[2] = {5, 6};
static const uint8_t MOTOR_DIR[2] = {4, 7};
static const uint8_t ENCODER_PIN[2] = {2, 3};

// --- reset cause, caught before the Arduino core starts -----------------------
uint8_t reset_cause __attribute__((section(".noinit")));
void early_wdt_off() __attribute__((naked, used, section(".init3")));
void early_wdt_off() {
  reset_cause = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

// --- state --------------------------------------------------------------------
static bool connected;  // a HELLO arrived since boot
static bool armed;
static bool failsafe;
static uint16_t watchdog_ms = 300;
static uint16_t telemetry_ms = 20;
static uint32_t last_frame_ms;
static uint32_t telemetry_next_us;  // when the next periodic frame is due
static uint32_t last_unsolicited_hello_ms;
static bool unsolicited_sent;
static uint16_t telemetry_seq;
static uint16_t watchdog_trips;
static uint32_t instance_id;
static char board_name[RC_NAME_MAX];  // NUL-padded; all NUL = no name
static uint8_t host_minor = RC_PROTOCOL_MINOR;  // from the host's HELLO
static uint32_t boot_id;
static int16_t motor_value[2];
static uint32_t output_pins;  // pins the host made outputs (set low on fail-safe)

// subscriptions
static uint32_t digital_subs, digital_change_subs, digital_levels;
static uint8_t analog_subs, analog_change_subs;
static uint8_t analog_ready;  // channels converted since they were subscribed
static uint16_t analog_period[6];
static uint32_t analog_last[6];
static uint16_t analog_value[6];
static uint16_t digital_period;
static uint32_t digital_last;
static bool send_now;

// ultrasonic
static uint8_t sonar_trig = 0xFF, sonar_echo;
static uint16_t sonar_period;
static volatile uint8_t sonar_state;  // 0 idle, 1 waiting for rise, 2 waiting for fall, 3 done
static volatile uint32_t sonar_rise, sonar_width;
static volatile uint8_t *sonar_echo_reg;
static uint8_t sonar_echo_mask;
static uint32_t sonar_t0, sonar_last;
static uint16_t sonar_mm = 0xFFFF;

// encoders
static bool encoders_on;
static volatile int32_t encoder_ticks[2];

// IMU (MPU-6050)
static uint8_t imu_addr;
static uint16_t imu_period;
static uint32_t imu_last;
static int16_t imu_rate[3];     // deci-degrees per second
static int32_t imu_heading_mdeg;  // milli-degrees
static bool imu_on;

// battery
static uint8_t battery_ch = 0xFF;
static uint16_t battery_ratio = 1000, battery_mv;
static uint32_t battery_last;

// The echo pulse is timed by pin-change interrupts (any pin), so a busy loop
// does not stretch or shrink it: micros() has 4 us steps, 0.7 mm.
static void sonar_edge() {
  if (!sonar_echo_reg) return;
  bool level = *sonar_echo_reg & sonar_echo_mask;
  uint32_t now = micros();
  if (sonar_state == 1 && level) {
    sonar_rise = now;
    sonar_state = 2;
  } else if (sonar_state == 2 && !level) {
    sonar_width = now - sonar_rise;
    sonar_state = 3;
  }
}
ISR(PCINT0_vect) { sonar_edge(); }
ISR(PCINT1_vect) { sonar_edge(); }
ISR(PCINT2_vect) { sonar_edge(); }

// --- helpers --------------------------------------------------------------------
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint16_t get16(const uint8_t *p) { return p[0] | (uint16_t(p[1]) << 8); }

static void log_text(uint8_t level, const char *text) {
  uint8_t buf[RC_MAX_PAYLOAD];
  uint8_t n = strlen(text);
  if (n > RC_MAX_PAYLOAD - 1) n = RC_MAX_PAYLOAD - 1;
  buf[0] = level;
  memcpy(buf + 1, text, n);
  if (connected) rc_link_send(RC_MSG_LOG, buf, n + 1, true);  // rare: waits like a reply
}

static void set_motor(uint8_t ch, int16_t value) {
  motor_value[ch] = value;
  digitalWrite(MOTOR_DIR[ch], value < 0 ? HIGH : LOW);
  uint16_t duty = uint32_t(value < 0 ? -value : value) * 255 / 1000;
  analogWrite(MOTOR_PWM[ch], duty);
}

static void stop_outputs() {
  set_motor(0, 0);
  set_motor(1, 0);
  rc_servo_all_safe();
  for (uint8_t pin = 2; pin < 20; pin++)
    if (output_pins & (1UL << pin)) digitalWrite(pin, LOW);  // also ends PWM on that pin
}

static bool pin_reserved(uint8_t pin) {
  if (pin < 2 || pin > 19) return true;  // 0/1 are the serial port
  for (uint8_t ch = 0; ch < 2; ch++)
    if (pin == MOTOR_PWM[ch] || pin == MOTOR_DIR[ch]) return true;
  if (encoders_on && (pin == ENCODER_PIN[0] || pin == ENCODER_PIN[1])) return true;
  return rc_servo_uses_pin(pin);
}

static uint32_t mix(uint32_t h, uint32_t v) {
  h ^= v;
  h *= 16777619UL;
  return h ^ (h >> 15);
}

static void make_ids() {
  // Entropy: time of the host's first frame (host and USB jitter), a floating
  // analog pin, and a boot counter kept in EEPROM.
  uint32_t counter = eeprom_read_dword((uint32_t *)4) + 1;
  eeprom_write_dword((uint32_t *)4, counter);
  uint32_t h = mix(2166136261UL, micros());
  h = mix(h, analogRead(7));
  h = mix(h, counter);
  instance_id = eeprom_read_dword((uint32_t *)0);
  if (instance_id == 0xFFFFFFFFUL || instance_id == 0) {
    instance_id = mix(h, 0x5A5A5A5AUL);
    eeprom_write_dword((uint32_t *)0, instance_id);
  }
  boot_id = mix(h, instance_id);
  if (boot_id == 0) boot_id = 1;
}

// --- the board's name in EEPROM (protocol 1.1) ----------------------------------
// 0..3 instance id, 4..7 boot counter, then the name record:
//   u8 magic, u8 length, 16 bytes name (NUL-padded), u16 CRC-16 of magic..name.
// A blank (0xFF) or corrupt record reads as "no name".
static const uint16_t NAME_EEPROM = 8;
static const uint8_t NAME_MAGIC = 0x4E;  // 'N'
struct NameRecord {
  uint8_t magic;
  uint8_t len;
  char name[RC_NAME_MAX];
  uint16_t crc;
};

static void load_name() {
  NameRecord r;
  eeprom_read_block(&r, (const void *)NAME_EEPROM, sizeof r);
  memset(board_name, 0, sizeof board_name);
  if (r.magic != NAME_MAGIC || r.len > RC_NAME_MAX) return;
  if (rc_crc16((const uint8_t *)&r, sizeof r - 2) != r.crc) return;
  memcpy(board_name, r.name, r.len);
}

static bool name_char_ok(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static uint8_t store_name(const uint8_t *p, uint8_t len) {
  if (len > RC_NAME_MAX) return RC_ERR_BAD_LENGTH;
  for (uint8_t i = 0; i < len; i++)
    if (!name_char_ok(p[i])) return RC_ERR_BAD_VALUE;
  NameRecord r;
  memset(&r, 0, sizeof r);
  r.magic = len ? NAME_MAGIC : 0xFF;  // an empty name erases the record
  r.len = len;
  memcpy(r.name, p, len);
  r.crc = rc_crc16((const uint8_t *)&r, sizeof r - 2);
  wdt_reset();  // ~3.4 ms per changed byte: at most 20 bytes, well inside the 250 ms watchdog
  eeprom_update_block(&r, (void *)NAME_EEPROM, sizeof r);
  load_name();  // report what the EEPROM holds, not what we meant to write
  return 0;
}

static void send_hello() {
  if (!boot_id) make_ids();
  uint8_t p[RC_HELLO_LEN];
  p[0] = RC_PROTOCOL_MAJOR;
  p[1] = RC_PROTOCOL_MINOR;
  p[2] = RC_FW_MAJOR;
  p[3] = RC_FW_MINOR;
  p[4] = RC_FW_PATCH;
  p[5] = RC_BOARD_ATMEGA328P;
  put32(p + 6, instance_id);
  put16(p + 10, RC_CAP_MOTORS | RC_CAP_SERVOS | RC_CAP_PINS | RC_CAP_SUBSCRIBE | RC_CAP_ULTRASONIC |
                    RC_CAP_ENCODERS | RC_CAP_IMU | RC_CAP_BATTERY | RC_CAP_NAME);
  p[12] = SERIAL_RX_BUFFER_SIZE;
  put32(p + 13, boot_id);
  put32(p + 17, host_minor == 0 ? RC_TABLE_HASH_1_0 : RC_TABLE_HASH);  // the table both sides know
  memcpy(p + RC_HELLO_LEN_1_0, board_name, RC_NAME_MAX);  // 1.1: a 1.0 host reads the first 21
  rc_link_send(RC_MSG_HELLO_REPLY, p, sizeof p, true);
}

static bool send_telemetry() {
  uint8_t p[RC_MAX_PAYLOAD];
  uint8_t n = 9;
  uint16_t mask = 0;
  if (sonar_trig != 0xFF) {
    mask |= RC_TM_DISTANCE;
    put16(p + n, sonar_mm);
    n += 2;
  }
  if (encoders_on) {
    mask |= RC_TM_ENCODERS;
    int32_t t0, t1;
    uint8_t old = SREG;
    cli();
    t0 = encoder_ticks[0];
    t1 = encoder_ticks[1];
    SREG = old;
    put32(p + n, t0);
    put32(p + n + 4, t1);
    n += 8;
  }
  if (imu_on) {
    mask |= RC_TM_IMU;
    int32_t cdeg = (imu_heading_mdeg / 10) % 36000;
    if (cdeg < 0) cdeg += 36000;
    put16(p + n, uint16_t(cdeg));
    for (uint8_t i = 0; i < 3; i++) put16(p + n + 2 + 2 * i, imu_rate[i]);
    n += 8;
  }
  if (battery_ch != 0xFF && battery_last) {  // once measured: never a made-up 0 V
    mask |= RC_TM_BATTERY;
    put16(p + n, battery_mv);
    n += 2;
  }
  if (digital_subs) {
    mask |= RC_TM_DIGITAL;
    put32(p + n, digital_levels);
    n += 4;
  }
  uint8_t analog = analog_subs & analog_ready;  // a channel once it has a value
  if (analog) {
    mask |= RC_TM_ANALOG;
    p[n++] = analog;
    for (uint8_t ch = 0; ch < 6; ch++)
      if (analog & (1 << ch)) {
        put16(p + n, analog_value[ch]);
        n += 2;
      }
  }
  put16(p, telemetry_seq);
  put32(p + 2, millis());
  put16(p + 6, mask);
  p[8] = (armed ? RC_STATE_ARMED : 0) | (failsafe ? RC_STATE_FAILSAFE : 0) |
         ((reset_cause & _BV(WDRF)) ? RC_STATE_WATCHDOG_RESET : 0);
  return rc_link_trickle(RC_MSG_TELEMETRY, p, n);  // telemetry_seq counts it once it is out whole
}

// Telemetry goes out a few bytes at a time (link.cpp), so a reply cuts a frame
// part-way out short (a 1.2 host) or waits for its rest. A new frame starts only
// with an empty transmit buffer and while no host frame is part-way in.
static bool host_talking(uint32_t now_us) { return Serial.available() || rc_link_receiving(now_us); }

static bool telemetry_may_start(uint32_t now_us) {
  return Serial.availableForWrite() >= SERIAL_TX_BUFFER_SIZE - 1 && !host_talking(now_us);
}

static void poll_telemetry(uint32_t now_us) {
  if (rc_link_take_completed()) telemetry_seq++;
  if (rc_link_trickling()) {  // on while a host frame arrives: a reply will cut it
    rc_link_pump();
    if (rc_link_take_completed()) telemetry_seq++;
    return;
  }
  if (!connected) return;
  bool periodic = telemetry_ms && int32_t(now_us - telemetry_next_us) >= 0;
  if (!(periodic || send_now) || !telemetry_may_start(now_us)) return;
  if (!send_telemetry()) return;
  send_now = false;
  if (!periodic) return;
  // the next one a period after this one was due; more than a period late (the
  // wire is slower than the period, or host frames held it back): from now
  uint32_t period_us = uint32_t(telemetry_ms) * 1000UL;
  telemetry_next_us += period_us;
  if (int32_t(now_us - telemetry_next_us) >= int32_t(period_us)) telemetry_next_us = now_us;
}

static void reply(const RcFrame &f, uint8_t err) {
  if (!(f.flags & RC_FLAG_ACK_REQUESTED)) return;
  uint8_t p[3] = {f.seq, f.type, err};
  rc_link_send(err ? RC_MSG_NAK : RC_MSG_ACK, p, err ? 3 : 2, true);
}

static void encoder0() { encoder_ticks[0] += motor_value[0] < 0 ? -1 : 1; }
static void encoder1() { encoder_ticks[1] += motor_value[1] < 0 ? -1 : 1; }

static bool valid_motor(int16_t v) { return v >= -1000 && v <= 1000; }

// --- commands -------------------------------------------------------------------
static uint8_t handle(const RcFrame &f) {
  const uint8_t *p = f.payload;
  switch (f.type) {
    case RC_MSG_ARM:
      if (f.len != 0) return RC_ERR_BAD_LENGTH;
      armed = true;
      failsafe = false;
      return 0;
    case RC_MSG_STOP_ALL:
      if (f.len != 0) return RC_ERR_BAD_LENGTH;
      armed = false;
      stop_outputs();
      return 0;
    case RC_MSG_DRIVE: {
      if (f.len != 4) return RC_ERR_BAD_LENGTH;
      int16_t l = get16(p), r = get16(p + 2);
      if (!valid_motor(l) || !valid_motor(r)) return RC_ERR_BAD_VALUE;
      if (!armed) return RC_ERR_NOT_ARMED;
      set_motor(0, l);
      set_motor(1, r);
      return 0;
    }
    case RC_MSG_MOTOR: {
      if (f.len != 3) return RC_ERR_BAD_LENGTH;
      int16_t v = get16(p + 1);
      if (p[0] > 1 || !valid_motor(v)) return RC_ERR_BAD_VALUE;
      if (!armed) return RC_ERR_NOT_ARMED;
      set_motor(p[0], v);
      return 0;
    }
    case RC_MSG_SERVO_ATTACH:
      if (f.len != 8) return RC_ERR_BAD_LENGTH;
      if (pin_reserved(p[1]) && !rc_servo_uses_pin(p[1])) return RC_ERR_BAD_PIN;
      return rc_servo_attach(p[0], p[1], get16(p + 2), get16(p + 4), get16(p + 6)) ? 0
                                                                                    : RC_ERR_BAD_VALUE;
    case RC_MSG_SERVO_WRITE:
      if (f.len != 3) return RC_ERR_BAD_LENGTH;
      if (!armed) return RC_ERR_NOT_ARMED;
      return rc_servo_write_us(p[0], get16(p + 1)) ? 0 : RC_ERR_BAD_VALUE;
    case RC_MSG_PIN_MODE:
      if (f.len != 2) return RC_ERR_BAD_LENGTH;
      if (pin_reserved(p[0])) return RC_ERR_BAD_PIN;
      if (p[1] > 2) return RC_ERR_BAD_VALUE;
      if (p[1] == 1) {
        digitalWrite(p[0], LOW);
        pinMode(p[0], OUTPUT);
        output_pins |= 1UL << p[0];
      } else {
        pinMode(p[0], p[1] == 2 ? INPUT_PULLUP : INPUT);
        output_pins &= ~(1UL << p[0]);
      }
      return 0;
    case RC_MSG_DIGITAL_WRITE:
    case RC_MSG_PWM_WRITE:
      if (f.len != 2) return RC_ERR_BAD_LENGTH;
      if (pin_reserved(p[0]) || !(output_pins & (1UL << p[0]))) return RC_ERR_BAD_PIN;
      if (f.type == RC_MSG_PWM_WRITE && digitalPinToTimer(p[0]) == NOT_ON_TIMER) return RC_ERR_BAD_PIN;
      if (f.type == RC_MSG_PWM_WRITE && (p[0] == 9 || p[0] == 10)) return RC_ERR_BAD_PIN;  // Timer1: servos
      if (!armed) return RC_ERR_NOT_ARMED;
      if (f.type == RC_MSG_PWM_WRITE) analogWrite(p[0], p[1]);
      else digitalWrite(p[0], p[1] ? HIGH : LOW);
      return 0;
    case RC_MSG_SUBSCRIBE: {
      if (f.len != 4) return RC_ERR_BAD_LENGTH;
      uint8_t kind = p[0], pin = p[1];
      uint16_t period = get16(p + 2);
      if (kind == 1) {
        if (pin_reserved(pin) || (output_pins & (1UL << pin))) return RC_ERR_BAD_PIN;
        digital_subs |= 1UL << pin;
        if (period == 0) digital_change_subs |= 1UL << pin;
        else digital_period = period;
      } else if (kind == 2) {
        if (pin > 5) return RC_ERR_BAD_PIN;
        if (!(analog_subs & (1 << pin))) {  // new: converted first, then reported
          analog_ready &= ~(1 << pin);
          analog_last[pin] = millis() - period;
        }
        analog_subs |= 1 << pin;
        analog_period[pin] = period;
        if (period == 0) analog_change_subs |= 1 << pin;
        else analog_change_subs &= ~(1 << pin);
      } else if (kind == 0) {
        digital_subs &= ~(1UL << pin);
        digital_change_subs &= ~(1UL << pin);
        if (pin < 6) analog_subs &= ~(1 << pin);
      } else {
        return RC_ERR_BAD_VALUE;
      }
      return 0;
    }
    case RC_MSG_ULTRASONIC:
      if (f.len != 4) return RC_ERR_BAD_LENGTH;
      if (sonar_trig != 0xFF) {  // stop watching the old echo pin
        *digitalPinToPCMSK(sonar_echo) &= ~_BV(digitalPinToPCMSKbit(sonar_echo));
        sonar_echo_reg = 0;
      }
      if (get16(p + 2) == 0) {
        sonar_trig = 0xFF;
        return 0;
      }
      if (pin_reserved(p[0]) || pin_reserved(p[1]) || p[0] == p[1]) return RC_ERR_BAD_PIN;
      sonar_trig = p[0];
      sonar_echo = p[1];
      sonar_period = get16(p + 2) < 30 ? 30 : get16(p + 2);
      sonar_state = 0;
      sonar_mm = 0xFFFF;
      pinMode(sonar_trig, OUTPUT);
      digitalWrite(sonar_trig, LOW);
      pinMode(sonar_echo, INPUT);
      sonar_echo_reg = portInputRegister(digitalPinToPort(sonar_echo));
      sonar_echo_mask = digitalPinToBitMask(sonar_echo);
      *digitalPinToPCMSK(sonar_echo) |= _BV(digitalPinToPCMSKbit(sonar_echo));
      PCIFR |= _BV(digitalPinToPCICRbit(sonar_echo));
      PCICR |= _BV(digitalPinToPCICRbit(sonar_echo));
      return 0;
    case RC_MSG_ENCODERS:
      if (f.len != 1) return RC_ERR_BAD_LENGTH;
      if (p[0] && !encoders_on) {
        pinMode(ENCODER_PIN[0], INPUT_PULLUP);
        pinMode(ENCODER_PIN[1], INPUT_PULLUP);
        // The pull-up's own rising edge (and the mode change) may have set INTFn:
        // clear it with interrupts off, or the first "tick" is a phantom.
        uint8_t old = SREG;
        cli();
        attachInterrupt(digitalPinToInterrupt(ENCODER_PIN[0]), encoder0, RISING);
        attachInterrupt(digitalPinToInterrupt(ENCODER_PIN[1]), encoder1, RISING);
        EIFR = _BV(INTF0) | _BV(INTF1);
        encoder_ticks[0] = encoder_ticks[1] = 0;
        SREG = old;
      } else if (!p[0] && encoders_on) {
        detachInterrupt(digitalPinToInterrupt(ENCODER_PIN[0]));
        detachInterrupt(digitalPinToInterrupt(ENCODER_PIN[1]));
      }
      encoders_on = p[0];
      return 0;
    case RC_MSG_IMU:
      if (f.len != 3) return RC_ERR_BAD_LENGTH;
      imu_on = false;
      if (get16(p + 1) == 0) return 0;
      Wire.begin();
      Wire.setWireTimeout(3000, true);
      Wire.beginTransmission(p[0]);
      Wire.write(0x6B);  // PWR_MGMT_1: wake up
      Wire.write(0);
      if (Wire.endTransmission() != 0) return RC_ERR_NO_DEVICE;
      imu_addr = p[0];
      imu_period = get16(p + 1) < 5 ? 5 : get16(p + 1);
      imu_heading_mdeg = 0;
      imu_last = millis();
      imu_on = true;
      return 0;
    case RC_MSG_BATTERY:
      if (f.len != 3) return RC_ERR_BAD_LENGTH;
      if (p[0] != 0xFF && p[0] > 5) return RC_ERR_BAD_PIN;
      battery_ch = p[0];
      battery_ratio = get16(p + 1);
      battery_last = 0;
      return 0;
    case RC_MSG_CONFIG: {
      if (f.len != 4) return RC_ERR_BAD_LENGTH;
      uint16_t wd = get16(p), tm = get16(p + 2);
      if (wd < 50 || wd > 5000 || (tm != 0 && (tm < RC_TELEMETRY_MIN_MS || tm > RC_TELEMETRY_MAX_MS)))
        return RC_ERR_BAD_VALUE;
      watchdog_ms = wd;
      if (tm != telemetry_ms) telemetry_next_us = micros();
      telemetry_ms = tm;
      return 0;
    }
    case RC_MSG_SET_NAME:
      return store_name(p, f.len);
#ifdef RC_TEST_HOOKS
    case 0x7F:  // test builds only: hang the main loop; the hardware watchdog must reset us
      for (;;) {
      }
#endif
    default:
      return RC_ERR_UNKNOWN_TYPE;
  }
}

static void on_frame(const RcFrame &f) {
  if (f.type == RC_MSG_HELLO) {  // any version may say hello and learn ours
    connected = true;
    host_minor = f.len >= 2 ? f.payload[1] : 0;
    rc_link_cut_allowed = host_minor >= 2;  // 1.2 hosts know a cut frame (RC_CUT)
    send_hello();
    last_frame_ms = millis();
    return;
  }
  if (!connected) {  // the host talks but has not said HELLO since we booted: tell it who we are
    if (!unsolicited_sent || millis() - last_unsolicited_hello_ms > 100) {
      unsolicited_sent = true;
      last_unsolicited_hello_ms = millis();
      send_hello();
    }
  }
  if (f.version != RC_PROTOCOL_MAJOR) {
    reply(f, RC_ERR_VERSION);
    return;
  }
  last_frame_ms = millis();
  if (f.type == RC_MSG_PING) {
    if (f.len != 4) return reply(f, RC_ERR_BAD_LENGTH);
    uint8_t p[14];
    memcpy(p, f.payload, 4);
    put32(p + 4, millis());
    put16(p + 8, rc_link_stats.corrupt);
    put16(p + 10, rc_link_stats.gaps);
    put16(p + 12, watchdog_trips);
    rc_link_send(RC_MSG_PONG, p, sizeof p, true);
    return;
  }
  reply(f, handle(f));
}

// --- sensors, all non-blocking ------------------------------------------------
static void poll_sonar(uint32_t now_ms) {
  if (sonar_trig == 0xFF) return;
  if (sonar_state == 0) {
    if (now_ms - sonar_last < sonar_period) return;
    sonar_last = now_ms;
    digitalWrite(sonar_trig, HIGH);
    delayMicroseconds(10);  // the HC-SR04 trigger pulse
    sonar_t0 = micros();
    sonar_state = 1;
    digitalWrite(sonar_trig, LOW);
    return;
  }
  if (sonar_state == 3) {
    uint8_t old = SREG;
    cli();
    uint32_t width = sonar_width;
    SREG = old;
    sonar_mm = uint16_t(width * 343UL / 2000UL);
    sonar_state = 0;
  } else if (micros() - sonar_t0 > 30000UL) {  // no echo: nothing in range
    sonar_mm = 0xFFFF;
    sonar_state = 0;
  }
}

static void poll_imu(uint32_t now_ms) {
  if (!imu_on || now_ms - imu_last < imu_period) return;
  uint32_t dt = now_ms - imu_last;
  imu_last = now_ms;
  Wire.beginTransmission(imu_addr);
  Wire.write(0x43);  // GYRO_XOUT_H
  if (Wire.endTransmission(false) != 0 || Wire.requestFrom(imu_addr, (uint8_t)6) != 6) {
    imu_on = false;
    log_text(40, "IMU stopped answering");
    return;
  }
  int16_t raw[3];
  for (uint8_t i = 0; i < 3; i++) {
    raw[i] = (int16_t(Wire.read()) << 8);
    raw[i] |= Wire.read();
    int32_t x = int32_t(raw[i]) * 10;  // +-250 deg/s range: 131 LSB per deg/s
    imu_rate[i] = (x >= 0 ? x + 65 : x - 65) / 131;
  }
  // deg/s x ms = milli-degrees
  int32_t step = int32_t(raw[2]) * int32_t(dt);
  imu_heading_mdeg += (step >= 0 ? step + 65 : step - 65) / 131;
}

static void poll_inputs(uint32_t now_ms) {
  if (digital_subs) {
    bool periodic = digital_period && now_ms - digital_last >= digital_period;
    if (periodic) digital_last = now_ms;
    for (uint8_t pin = 2; pin < 20; pin++) {
      uint32_t bit = 1UL << pin;
      if (!(digital_subs & bit)) continue;
      uint32_t level = digitalRead(pin) ? bit : 0;
      if ((digital_levels & bit) != level) {
        digital_levels = (digital_levels & ~bit) | level;
        if (digital_change_subs & bit) send_now = true;
      }
    }
  }
}

// The ADC converts one channel at a time (~104 us at the core's prescaler of 128)
// while the loop goes on. Slots 0..5 are the subscribed channels A0..A5, slot 6
// the battery's channel; each is converted when due, in turn.
static const uint8_t ADC_SLOTS = 7, ADC_IDLE = 0xFF;
static uint8_t adc_slot = ADC_IDLE, adc_turn;

static bool adc_due(uint8_t slot, uint32_t now_ms) {
  if (slot == 6) return battery_ch != 0xFF && (battery_last == 0 || now_ms - battery_last >= 100);
  if (!(analog_subs & (1 << slot))) return false;
  return !analog_period[slot] || now_ms - analog_last[slot] >= analog_period[slot];
}

static void adc_done(uint8_t slot, uint16_t v, uint32_t now_ms) {
  if (slot == 6) {
    battery_last = now_ms | 1;
    battery_mv = uint32_t(v) * 5000UL / 1023UL * battery_ratio / 1000UL;
    return;
  }
  analog_last[slot] = now_ms;
  analog_ready |= 1 << slot;
  int16_t diff = int16_t(v) - int16_t(analog_value[slot]);
  if ((analog_change_subs & (1 << slot)) && (diff > 4 || diff < -4)) send_now = true;
  analog_value[slot] = v;
}

static void poll_adc(uint32_t now_ms) {
  if (adc_slot != ADC_IDLE) {
    if (bit_is_set(ADCSRA, ADSC)) return;  // still converting
    adc_done(adc_slot, ADC, now_ms);
    adc_slot = ADC_IDLE;
  }
  for (uint8_t i = 0; i < ADC_SLOTS; i++) {
    uint8_t slot = adc_turn;
    adc_turn = adc_turn + 1 < ADC_SLOTS ? adc_turn + 1 : 0;
    if (!adc_due(slot, now_ms)) continue;
    ADMUX = (DEFAULT << 6) | ((slot == 6 ? battery_ch : slot) & 0x07);  // as analogRead does
    ADCSRA |= _BV(ADSC);
    adc_slot = slot;
    return;
  }
}

// --- Arduino entry points ---------------------------------------------------------
void setup() {
  for (uint8_t ch = 0; ch < 2; ch++) {  // safe at boot: motor driver inputs low
    digitalWrite(MOTOR_PWM[ch], LOW);
    digitalWrite(MOTOR_DIR[ch], LOW);
    pinMode(MOTOR_PWM[ch], OUTPUT);
    pinMode(MOTOR_DIR[ch], OUTPUT);
  }
  load_name();
  Serial.begin(BAUD);
  wdt_enable(WDTO_250MS);
}

void loop() {
  RcFrame frame;
  uint8_t budget = 64;  // bytes per pass, so a flood cannot starve the watchdog
  while (budget-- && Serial.available()) {
    if (rc_link_receive(uint8_t(Serial.read()), &frame)) on_frame(frame);
  }
  uint32_t now = millis();
  if (armed && now - last_frame_ms > watchdog_ms) {
    armed = false;
    failsafe = true;
    watchdog_trips++;
    stop_outputs();
    log_text(30, "link watchdog: host silent, outputs stopped; ARM to move again");
  }
  poll_sonar(now);
  poll_imu(now);
  poll_inputs(now);
  poll_adc(now);
  poll_telemetry(micros());
  wdt_reset();  // only a loop that got here is healthy
}
