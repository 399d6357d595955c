`default_nettype none
// Byte FIFO that takes and gives up to four bytes per clock, so the SPI flash controller fills its
// transmit side with one bus write per four bytes and empties its receive side with one bus read.
// The user never pushes more than there is room for, nor pops more than the level (asserted).
module spi_flash_fifo #(
  parameter int unsigned DEPTH = 64  // bytes; a power of two, at least 4
) (
  input  wire logic                   clk_i,
  input  wire logic                   rst_ni,
  input  wire logic [2:0]             push_n_i,     // bytes to add this clock, 0-4
  input  wire logic [31:0]            push_data_i,  // byte k of the push in bits 8k+7:8k
  input  wire logic [2:0]             pop_n_i,      // bytes to take this clock, 0-4
  output logic      [31:0]            peek_o,       // the oldest four bytes, oldest in 7:0; 0 past the level
  output logic      [$clog2(DEPTH):0] level_o
);
  localparam int unsigned PW = $clog2(DEPTH);

  // Byte i of the storage is bits 8i+7:8i: a flat vector, which every tool reads and writes whole.
  logic [8*DEPTH-1:0] mem_q, mem_d;
  logic [PW-1:0] rd_q, rd_d, wr_q, wr_d;
  logic [PW:0]   level_q, level_d;

  always_comb begin
    mem_d = mem_q;
    for (int unsigned k = 0; k < 4; k++) begin
      if (k < 32'(push_n_i)) mem_d[8*(wr_q + PW'(k)) +: 8] = push_data_i[8*k +: 8];
    end
    wr_d    = wr_q + PW'(push_n_i);
    rd_d    = rd_q + PW'(pop_n_i);
    level_d = level_q + (PW+1)'(push_n_i) - (PW+1)'(pop_n_i);
  end

  always_comb begin
    for (int unsigned k = 0; k < 4; k++) begin
      peek_o[8*k +: 8] = k < 32'(level_q) ? mem_q[8*(rd_q + PW'(k)) +: 8] : 8'h00;
    end
  end

  assign level_o = level_q;

  // The storage has no reset: nothing reads a byte before it is written (peek masks past the level).
  always_ff @(posedge clk_i) mem_q <= mem_d;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q    <= '0;
      wr_q    <= '0;
      level_q <= '0;
    end else begin
      rd_q    <= rd_d;
      wr_q    <= wr_d;
      level_q <= level_d;
    end
  end

`ifndef SYNTHESIS
  initial assert (DEPTH >= 4 && (DEPTH & (DEPTH - 1)) == 0) else $fatal(1, "spi_flash_fifo: DEPTH must be a power of two of at least 4");
  // The user keeps within the FIFO: no pop past the level, no push past the room left.
  assert property (@(posedge clk_i) disable iff (!rst_ni) 32'(pop_n_i) <= 32'(level_q));
  assert property (@(posedge clk_i) disable iff (!rst_ni)
    32'(level_q) + 32'(push_n_i) - 32'(pop_n_i) <= DEPTH);
  assert property (@(posedge clk_i) disable iff (!rst_ni) push_n_i <= 3'd4 && pop_n_i <= 3'd4);
`endif
endmodule
`default_nettype wire
