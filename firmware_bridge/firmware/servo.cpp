#include "servo.h"

#include <Arduino.h>

struct Servo {
  uint8_t pin;
  bool attached;
  uint16_t min_us, max_us, safe_us;
  volatile uint16_t ticks;  // 0.5 us ticks (prescaler 8 at 16 MHz)
};

static Servo servos[RC_SERVOS];
static volatile int8_t current = -1;
static bool timer_on;

static const uint16_t REFRESH_TICKS = 40000;  // 20 ms

ISR(TIMER1_COMPA_vect) {
  if (current < 0) TCNT1 = 0;
  else if (servos[current].attached) digitalWrite(servos[current].pin, LOW);
  current++;
  while (current < RC_SERVOS && !servos[current].attached) current++;
  if (current < RC_SERVOS) {
    digitalWrite(servos[current].pin, HIGH);
    OCR1A = TCNT1 + servos[current].ticks;
  } else {
    uint16_t now = TCNT1;
    OCR1A = now + 8 < REFRESH_TICKS ? REFRESH_TICKS : now + 8;
    current = -1;
  }
}

static void start_timer() {
  if (timer_on) return;
  TCCR1A = 0;
  TCCR1B = _BV(CS11);
  TCNT1 = 0;
  OCR1A = 100;
  TIFR1 = _BV(OCF1A);
  TIMSK1 |= _BV(OCIE1A);
  timer_on = true;
}

bool rc_servo_attach(uint8_t ch, uint8_t pin, uint16_t min_us, uint16_t max_us, uint16_t safe_us) {
  if (ch >= RC_SERVOS || min_us < 400 || max_us > 2600 || min_us >= max_us) return false;
  if (safe_us < min_us || safe_us > max_us) return false;
  uint8_t old = SREG;
  cli();
  servos[ch].attached = false;
  SREG = old;
  pinMode(pin, OUTPUT);
  digitalWrite(pin, LOW);
  servos[ch].pin = pin;
  servos[ch].min_us = min_us;
  servos[ch].max_us = max_us;
  servos[ch].safe_us = safe_us;
  servos[ch].ticks = safe_us * 2;
  servos[ch].attached = true;
  start_timer();
  return true;
}

bool rc_servo_write_us(uint8_t ch, uint16_t us) {
  if (ch >= RC_SERVOS || !servos[ch].attached) return false;
  if (us < servos[ch].min_us) us = servos[ch].min_us;
  if (us > servos[ch].max_us) us = servos[ch].max_us;
  uint8_t old = SREG;
  cli();
  servos[ch].ticks = us * 2;
  SREG = old;
  return true;
}

void rc_servo_all_safe() {
  for (uint8_t ch = 0; ch < RC_SERVOS; ch++) {
    if (!servos[ch].attached) continue;
    uint8_t old = SREG;
    cli();
    servos[ch].ticks = servos[ch].safe_us * 2;
    SREG = old;
  }
}

bool rc_servo_uses_pin(uint8_t pin) {
  for (uint8_t ch = 0; ch < RC_SERVOS; ch++)
    if (servos[ch].attached && servos[ch].pin == pin) return true;
  return false;
}
