/* Framing on the wire: COBS, 0x00 delimiter, CRC-16/CCITT-FALSE. */
#ifndef RC_LINK_H
#define RC_LINK_H
#include <stdint.h>
#include "protocol.h"

struct RcFrame {
  uint8_t flags;
  uint8_t version;
  uint8_t seq;
  uint8_t type;
  uint8_t len;
  uint8_t payload[RC_MAX_PAYLOAD];
};

struct RcLinkStats {
  uint16_t corrupt;  // frames that failed COBS, length or CRC
  uint16_t gaps;     // host frames missing by sequence number
};

extern RcLinkStats rc_link_stats;

// Feed received bytes; returns true and fills *out when a valid frame completed.
bool rc_link_receive(uint8_t byte, RcFrame *out);
// Send one frame; returns false (and sends nothing) if the TX buffer cannot take it whole.
bool rc_link_send(uint8_t type, const uint8_t *payload, uint8_t len, bool must);
// Telemetry goes out a few bytes at a time, so a reply need not wait for a whole
// frame: rc_link_trickle starts one (false if one is going), rc_link_pump feeds it
// on (call it often), rc_link_take_completed says once that one went out whole.
// A reply (rc_link_send) cuts a frame part-way out short with RC_CUT (0x00 x3)
// when rc_link_cut_allowed (the host speaks 1.2), else finishes it first.
bool rc_link_trickle(uint8_t type, const uint8_t *payload, uint8_t len);
void rc_link_pump();
bool rc_link_trickling();
bool rc_link_take_completed();
extern bool rc_link_cut_allowed;
// True while a host frame is part-way in (bytes since the last 0x00, the latest
// less than a few byte times ago): its reply is next on the wire.
bool rc_link_receiving(uint32_t now_us);
uint16_t rc_crc16(const uint8_t *data, uint8_t len);

#endif
