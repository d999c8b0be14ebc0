#include "link.h"

#include <Arduino.h>
#include <util/crc16.h>

RcLinkStats rc_link_stats;

static uint8_t rx_buf[RC_MAX_ENCODED];
static uint8_t rx_len;
static bool rx_overflow;
static bool rx_have_seq;
static uint8_t rx_next_seq;
static uint8_t tx_seq;
static uint32_t rx_last_us;  // when the latest byte of a frame arrived
bool rc_link_cut_allowed;
static uint8_t trickle[RC_MAX_ENCODED + 1];  // a telemetry frame going out bit by bit
static uint8_t trickle_len, trickle_pos;
static bool trickle_completed;
static const uint8_t TRICKLE_AHEAD = 4;  // bytes queued ahead of the UART: ~0.35 ms
static const uint8_t RC_CUT[3] = {0, 0, 0};  // ends a cut frame; the host counts it as cut

uint16_t rc_crc16(const uint8_t *data, uint8_t len) {
  uint16_t crc = 0xFFFF;
  for (uint8_t i = 0; i < len; i++) crc = _crc_xmodem_update(crc, data[i]);
  return crc;
}

// Decode COBS in place-safe way into out; returns decoded length or -1.
static int cobs_decode(const uint8_t *in, uint8_t len, uint8_t *out) {
  uint8_t i = 0, o = 0;
  while (i < len) {
    uint8_t code = in[i++];
    if (code == 0) return -1;
    for (uint8_t k = 1; k < code; k++) {
      if (i >= len) return -1;
      out[o++] = in[i++];
    }
    if (code < 0xFF && i < len) out[o++] = 0;
  }
  return o;
}

static bool finish(RcFrame *out) {
  uint8_t body[RC_MAX_ENCODED];
  int n = cobs_decode(rx_buf, rx_len, body);
  if (n < RC_HEADER_LEN + RC_CRC_LEN || n > RC_MAX_BODY) return false;
  uint16_t crc = body[n - 2] | (uint16_t(body[n - 1]) << 8);
  if (rc_crc16(body, n - 2) != crc) return false;
  out->version = body[0] >> 4;
  out->flags = body[0] & 0x0F;
  out->seq = body[1];
  out->type = body[2];
  out->len = n - RC_HEADER_LEN - RC_CRC_LEN;
  memcpy(out->payload, body + RC_HEADER_LEN, out->len);
  if (rx_have_seq && out->seq != rx_next_seq) rc_link_stats.gaps += uint8_t(out->seq - rx_next_seq);
  rx_have_seq = true;
  rx_next_seq = out->seq + 1;
  return true;
}

bool rc_link_receive(uint8_t byte, RcFrame *out) {
  if (byte != 0) {
    rx_last_us = micros();
    if (rx_len < sizeof rx_buf) rx_buf[rx_len++] = byte;
    else rx_overflow = true;
    return false;
  }
  bool ok = false;
  if (rx_len || rx_overflow) {
    ok = !rx_overflow && finish(out);
    if (!ok) rc_link_stats.corrupt++;
  }
  rx_len = 0;
  rx_overflow = false;
  return ok;
}

bool rc_link_receiving(uint32_t now_us) {
  // 500 us is almost 6 byte times at 115200: a host that stopped half-way (noise, a
  // cut cable) holds telemetry back no longer than that.
  return (rx_len || rx_overflow) && now_us - rx_last_us < 500;
}

// COBS(body) + 0x00 into wire (RC_MAX_ENCODED + 1 bytes); returns its length.
static uint8_t encode(uint8_t type, const uint8_t *payload, uint8_t len, uint8_t *wire) {
  uint8_t body[RC_MAX_BODY];
  body[0] = RC_PROTOCOL_MAJOR << 4;
  body[1] = tx_seq;
  body[2] = type;
  memcpy(body + RC_HEADER_LEN, payload, len);
  uint8_t n = RC_HEADER_LEN + len;
  uint16_t crc = rc_crc16(body, n);
  body[n++] = crc & 0xFF;
  body[n++] = crc >> 8;
  // COBS encode
  uint8_t code_at = 0, o = 1, code = 1;
  for (uint8_t i = 0; i < n; i++) {
    if (body[i] == 0) {
      wire[code_at] = code;
      code_at = o++;
      code = 1;
    } else {
      wire[o++] = body[i];
      if (++code == 0xFF) {
        wire[code_at] = code;
        code_at = o++;
        code = 1;
      }
    }
  }
  wire[code_at] = code;
  wire[o++] = 0;
  return o;
}

// A frame part-way out before another: cut short (a 1.2 host drops the piece and
// counts it as cut), or finished first when its rest is no longer than the cut
// (only its 0x00 left, the cut would complete it); one not started yet is
// dropped (the caller builds it again, same sequence numbers).
static void cut_trickle() {
  if (!trickle_len) return;
  if (trickle_pos && rc_link_cut_allowed && trickle_len - trickle_pos > sizeof RC_CUT) {
    Serial.write(RC_CUT, sizeof RC_CUT);
  } else if (trickle_pos) {
    Serial.write(trickle + trickle_pos, trickle_len - trickle_pos);
    tx_seq++;
    trickle_completed = true;
  }
  trickle_len = 0;
}

bool rc_link_send(uint8_t type, const uint8_t *payload, uint8_t len, bool must) {
  uint8_t wire[RC_MAX_ENCODED + 1];
  if (len > RC_MAX_PAYLOAD) return false;
  cut_trickle();
  uint8_t o = encode(type, payload, len, wire);
  if (!must && Serial.availableForWrite() < o) return false;  // others wait (bounded by the UART)
  Serial.write(wire, o);
  tx_seq++;
  return true;
}

bool rc_link_trickle(uint8_t type, const uint8_t *payload, uint8_t len) {
  if (trickle_len || len > RC_MAX_PAYLOAD) return false;
  trickle_len = encode(type, payload, len, trickle);
  trickle_pos = 0;
  rc_link_pump();
  return true;
}

void rc_link_pump() {
  while (trickle_pos < trickle_len && Serial.availableForWrite() > SERIAL_TX_BUFFER_SIZE - 1 - TRICKLE_AHEAD)
    Serial.write(trickle[trickle_pos++]);
  if (trickle_len && trickle_pos == trickle_len) {
    trickle_len = 0;
    tx_seq++;
    trickle_completed = true;
  }
}

bool rc_link_trickling() { return trickle_len; }

bool rc_link_take_completed() {
  bool done = trickle_completed;
  trickle_completed = false;
  return done;
}
