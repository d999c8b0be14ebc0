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
// True while a host frame is part-way in (bytes since the last 0x00, the latest
// less than a few byte times ago): its reply is next on the wire.
bool rc_link_receiving(uint32_t now_us);
uint16_t rc_crc16(const uint8_t *data, uint8_t len);

#endif
