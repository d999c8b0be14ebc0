/* RoboClass serial protocol: the firmware's copy of the numbers.
 *
 * docs/serial-protocol.md describes the protocol; firmware_bridge/protocol.py
 * is the host's copy. tests/unit/test_bridge_codec.py checks that every
 * RC_MSG_*, RC_ERR_* and RC_TABLE_HASH below equals the Python table, so the
 * two cannot drift apart silently.
 */
#ifndef RC_PROTOCOL_H
#define RC_PROTOCOL_H

#define RC_PROTOCOL_MAJOR_DEFAULT 1
#define RC_PROTOCOL_MINOR 2  /* 1.1: SET_NAME, the name in HELLO_REPLY; 1.2: telemetry periods from 1 ms */
#ifndef RC_PROTOCOL_MAJOR
#define RC_PROTOCOL_MAJOR RC_PROTOCOL_MAJOR_DEFAULT
#endif

#define RC_MAX_PAYLOAD 48
#define RC_HEADER_LEN 3
#define RC_CRC_LEN 2
#define RC_MAX_BODY (RC_HEADER_LEN + RC_MAX_PAYLOAD + RC_CRC_LEN)
#define RC_MAX_ENCODED (RC_MAX_BODY + 1)
/* HELLO_REPLY reports the table of the minor both sides speak: a 1.0 host gets 1.0's */
#define RC_TABLE_HASH 0x4a72a4a6UL
#define RC_TABLE_HASH_1_0 0x5d2c2839UL

#define RC_FLAG_ACK_REQUESTED 0x01

#define RC_MSG_HELLO          0x01
#define RC_MSG_PING           0x02
#define RC_MSG_ARM            0x03
#define RC_MSG_STOP_ALL       0x04
#define RC_MSG_DRIVE          0x05
#define RC_MSG_MOTOR          0x06
#define RC_MSG_SERVO_ATTACH   0x07
#define RC_MSG_SERVO_WRITE    0x08
#define RC_MSG_PIN_MODE       0x09
#define RC_MSG_DIGITAL_WRITE  0x0A
#define RC_MSG_PWM_WRITE      0x0B
#define RC_MSG_SUBSCRIBE      0x0C
#define RC_MSG_ULTRASONIC     0x0D
#define RC_MSG_ENCODERS       0x0E
#define RC_MSG_IMU            0x0F
#define RC_MSG_BATTERY        0x10
#define RC_MSG_CONFIG         0x11
#define RC_MSG_SET_NAME       0x12
#define RC_MSG_HELLO_REPLY    0x81
#define RC_MSG_PONG           0x82
#define RC_MSG_ACK            0x83
#define RC_MSG_NAK            0x84
#define RC_MSG_TELEMETRY      0x85
#define RC_MSG_LOG            0x86

#define RC_ERR_UNKNOWN_TYPE   1
#define RC_ERR_BAD_LENGTH     2
#define RC_ERR_BAD_VALUE      3
#define RC_ERR_NOT_ARMED      4
#define RC_ERR_BAD_PIN        5
#define RC_ERR_NO_DEVICE      6
#define RC_ERR_NO_RESOURCE    7
#define RC_ERR_VERSION        8

#define RC_STATE_ARMED          0x01
#define RC_STATE_FAILSAFE       0x02
#define RC_STATE_WATCHDOG_RESET 0x04

#define RC_TM_DISTANCE 0x01
#define RC_TM_ENCODERS 0x02
#define RC_TM_IMU      0x04
#define RC_TM_BATTERY  0x08
#define RC_TM_DIGITAL  0x10
#define RC_TM_ANALOG   0x20

#define RC_BOARD_ATMEGA328P 1

#define RC_CAP_MOTORS     0x0001
#define RC_CAP_SERVOS     0x0002
#define RC_CAP_PINS       0x0004
#define RC_CAP_SUBSCRIBE  0x0008
#define RC_CAP_ULTRASONIC 0x0010
#define RC_CAP_ENCODERS   0x0020
#define RC_CAP_IMU        0x0040
#define RC_CAP_BATTERY    0x0080
#define RC_CAP_NAME       0x0100

#define RC_NAME_MAX 16
#define RC_HELLO_LEN_1_0 21
#define RC_HELLO_LEN 37 /* RC_HELLO_LEN_1_0 + RC_NAME_MAX */

/* CONFIG: telemetry periods 1..5000 ms since 1.2 (1.0 and 1.1: 10..5000) */
#define RC_TELEMETRY_MIN_MS 1
#define RC_TELEMETRY_MAX_MS 5000

#endif
