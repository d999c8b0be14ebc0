/* The floor for the bridge benchmark: the same UART, the same Arduino core,
 * no protocol. A request is bytes up to a 0x00; its first byte says how many
 * bytes to answer. The host times request -> full answer, byte for byte the
 * same sizes as a real PING/PONG or DRIVE/ACK exchange.
 */
#include <Arduino.h>

static uint8_t want;
static bool first = true;

void setup() { Serial.begin(115200); }

void loop() {
  while (Serial.available()) {
    uint8_t b = Serial.read();
    if (first) {
      want = b;
      first = false;
    }
    if (b == 0) {
      for (uint8_t i = 1; i < want; i++) Serial.write(0x55);
      Serial.write((uint8_t)0);
      first = true;
    }
  }
}
