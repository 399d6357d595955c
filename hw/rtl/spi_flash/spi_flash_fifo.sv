`default_nettype none
// Byte FIFO of the SPI flash controller, written as RAM so that FPGA tools put its storage in one
// block RAM (iCE40 SB_RAM40_4K) or in distributed RAM (7-series) rather than in flip-flops: one
// write port in an always_ff without reset, a registered read, no reset on the storage. One byte
// goes in and one comes out per clock at most.
//
// The head (the oldest byte) is read ahead: the RAM reads the address the read pointer will hold
// after this clock, so after a pop the next byte is there one clock later. A byte pushed into an
// empty FIFO is readable one clock after its write (the RAM's read-during-write data is undefined),
// which head_valid_o says; level_o counts it from the clock after the push, as before.
module spi_flash_fifo #(
  parameter int unsigned DEPTH = 64  // bytes; a power of two, at least 4
) (
  input  wire logic                   clk_i,
  input  wire logic                   rst_ni,
  input  wire logic                   push_i,
  input  wire logic [7:0]             push_data_i,
  input  wire logic                   pop_i,         // takes head_o; only while head_valid_o
  output logic      [7:0]             head_o,
  output logic                        head_valid_o,
  output logic      [$clog2(DEPTH):0] level_o,
  // Flags of the level, each a flop: push and pop come late in the clock, so whoever decides them
  // reads these rather than comparing level_o.
  output logic                        empty_o,      // level 0
  output logic                        full_o,       // level DEPTH
  output logic                        high_o        // level DEPTH-1 or more
);
  localparam int unsigned PW = $clog2(DEPTH);

  logic [PW-1:0] wr_q, wr_d;
  logic [PW-1:0] rd_q, rd_d;
  logic [PW-1:0] rd_next_q, rd_next_d;  // rd_q + 1, kept in a register so the RAM address is one mux
  logic [PW:0]   level_q, level_d;
  logic          empty_q, empty_d, full_q, full_d, high_q, high_d;
  logic          valid_q, valid_d;  // head_q holds the oldest byte
  logic [PW-1:0] raddr;

  // The +1/-1 results and the comparisons come from flops only; push and pop only choose among
  // them, so no adder or comparator sits behind the late signals.
  logic inc, dec;
  assign inc = push_i && !pop_i;
  assign dec = pop_i && !push_i;
  always_comb begin
    wr_d      = push_i ? wr_q + PW'(1) : wr_q;
    rd_d      = pop_i ? rd_next_q : rd_q;
    rd_next_d = pop_i ? rd_next_q + PW'(1) : rd_next_q;
    level_d   = level_q;
    empty_d   = empty_q;
    full_d    = full_q;
    high_d    = high_q;
    if (inc) begin
      level_d = level_q + (PW+1)'(1);
      empty_d = 1'b0;
      full_d  = level_q == (PW+1)'(DEPTH - 1);
      high_d  = level_q >= (PW+1)'(DEPTH - 2);
    end else if (dec) begin
      level_d = level_q - (PW+1)'(1);
      empty_d = level_q == (PW+1)'(1);
      full_d  = 1'b0;
      high_d  = full_q;
    end
    // The RAM reads rd_d and returns the byte there before this clock's write. That is the head
    // after this clock unless the head is the byte written in this clock: with a pop, the next byte
    // was there already if the level is two or more; without one, the head stays, and is there
    // unless the FIFO is empty now.
    valid_d   = pop_i ? level_q >= (PW+1)'(2) : !empty_q;
  end
  assign raddr = rd_d;

  // ---- storage: RAM, no reset; nothing reads a byte before it is written ----
  // Read-during-write data is never used (head_valid_o), so no tool needs to emulate it.
  (* no_rw_check *)
  logic [7:0] mem_q [DEPTH];
  logic [7:0] head_q;

  always_ff @(posedge clk_i) begin
    if (push_i) mem_q[wr_q] <= push_data_i;
  end

  always_ff @(posedge clk_i) begin
    head_q <= mem_q[raddr];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q      <= '0;
      rd_q      <= '0;
      rd_next_q <= PW'(1);
      level_q   <= '0;
      empty_q   <= 1'b1;
      full_q    <= 1'b0;
      high_q    <= 1'b0;
      valid_q   <= 1'b0;
    end else begin
      wr_q      <= wr_d;
      rd_q      <= rd_d;
      rd_next_q <= rd_next_d;
      level_q   <= level_d;
      empty_q   <= empty_d;
      full_q    <= full_d;
      high_q    <= high_d;
      valid_q   <= valid_d;
    end
  end

  assign head_o       = head_q;
  assign head_valid_o = valid_q;
  assign level_o      = level_q;
  assign empty_o      = empty_q;
  assign full_o       = full_q;
  assign high_o       = high_q;

`ifndef SYNTHESIS
  initial assert (DEPTH >= 4 && (DEPTH & (DEPTH - 1)) == 0) else $fatal(1, "spi_flash_fifo: DEPTH must be a power of two of at least 4");
  // Never silently: no push into a full FIFO, no pop of a head that is not there.
  FifoNoOverflow: assert property (@(posedge clk_i) disable iff (!rst_ni) push_i |-> 32'(level_q) < DEPTH);
  FifoNoUnderflow: assert property (@(posedge clk_i) disable iff (!rst_ni) pop_i |-> head_valid_o);
  // The pointers and the level agree (a wrapped level would show here first).
  FifoLevelMatchesPointers: assert property (@(posedge clk_i) disable iff (!rst_ni)
    PW'(wr_q - rd_q) == level_q[PW-1:0] && 32'(level_q) <= DEPTH);
  FifoFlagsMatchLevel: assert property (@(posedge clk_i) disable iff (!rst_ni)
    empty_q == (level_q == '0) && full_q == (32'(level_q) == DEPTH) && high_q == (32'(level_q) >= DEPTH - 1));
  // The head is readable from the second clock after its write: at once when older bytes are
  // queued, one clock late when it went into an empty FIFO.
  FifoHeadValid: assert property (@(posedge clk_i) disable iff (!rst_ni)
    valid_q == (32'(level_q) >= 2 || (level_q == (PW+1)'(1) && !$past(push_i))));
  FifoHeadKnown: assert property (@(posedge clk_i) disable iff (!rst_ni) head_valid_o |-> !$isunknown(head_o));
`endif
endmodule
`default_nettype wire
