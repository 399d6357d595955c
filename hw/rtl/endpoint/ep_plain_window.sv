`default_nettype none

// A shared memory region mapped one to one onto backing memory (PlainWindow in the model): a host
// access at BAR offset addr_i becomes one word request at the same byte address on the memory
// master, with the access's byte strobes for a write and all four bytes for a read. The parent
// only offers accesses that fall inside the region.
module ep_plain_window (
  input  wire logic        clk_i,
  input  wire logic        rst_ni,
  // Host: one access, held until ack_o
  input  wire logic        req_i,
  input  wire logic        we_i,
  input  wire logic [63:0] addr_i,
  input  wire logic [31:0] wdata_i,
  input  wire logic [3:0]  be_i,
  output logic             ack_o,
  output logic [31:0]      rdata_o,
  // Memory master
  output logic             mem_req_o,
  output logic             mem_we_o,
  output logic [63:0]      mem_addr_o,
  output logic [3:0]       mem_be_o,
  output logic [31:0]      mem_wdata_o,
  input  wire logic        mem_ack_i,
  input  wire logic [31:0] mem_rdata_i
);

  typedef enum logic [1:0] {
    StIdle,  // waiting for a host access
    StMem,   // the memory master holds the request
    StDone   // ack_o for one clock
  } state_e;

  state_e      state_q, state_d;
  logic [31:0] rdata_q, rdata_d;

  assign mem_req_o   = state_q == StMem;
  assign mem_we_o    = we_i;
  assign mem_addr_o  = {addr_i[63:2], 2'b00};
  assign mem_be_o    = we_i ? be_i : 4'hf;
  assign mem_wdata_o = wdata_i;
  assign ack_o       = state_q == StDone;
  assign rdata_o     = rdata_q;

  always_comb begin
    state_d = state_q;
    rdata_d = rdata_q;
    unique case (state_q)
      StIdle: if (req_i) state_d = StMem;
      StMem: begin
        if (mem_ack_i) begin
          rdata_d = we_i ? 32'h0 : mem_rdata_i;
          state_d = StDone;
        end
      end
      StDone: state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      rdata_q <= '0;
    end else begin
      state_q <= state_d;
      rdata_q <= rdata_d;
    end
  end

endmodule

`default_nettype wire
