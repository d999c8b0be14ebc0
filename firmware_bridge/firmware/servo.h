/* Up to 4 hobby servos on any digital pins, pulsed from Timer1 (like Arduino's Servo). */
#ifndef RC_SERVO_H
#define RC_SERVO_H
#include <stdint.h>

#define RC_SERVOS 4

bool rc_servo_attach(uint8_t ch, uint8_t pin, uint16_t min_us, uint16_t max_us, uint16_t safe_us);
bool rc_servo_write_us(uint8_t ch, uint16_t us);
void rc_servo_all_safe();
bool rc_servo_uses_pin(uint8_t pin);

#endif
